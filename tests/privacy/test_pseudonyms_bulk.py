"""``pseudonyms_ensure`` (retention's batches) gives every person the code one-by-one creation
would: the shortest free one, the first person (by id) winning a code two are offered, and
nothing new for a person who has one."""

import pytest

from privacy.personal_data.models import Pseudonym
from privacy.personal_data.pseudonyms import pseudonym_for, pseudonyms_ensure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _codes(users) -> list[str]:
    found = dict(Pseudonym.objects.filter(user__in=users).values_list("user_id", "code"))
    return [found.get(user.pk) for user in users]


def test_bulk_codes_are_the_one_by_one_codes(monkeypatch):
    holder, first, second, third, had = (
        UserFactory(),
        UserFactory(),
        UserFactory(),
        UserFactory(),
        UserFactory(),
    )
    # first and second are offered the same codes; third's short code is someone else's already.
    shared = {first.pk: "aaaaaaaaaaaaaaaa", second.pk: "aaaaaaaaaaaaaaaa", third.pk: "bbbbbbbbbbbbbbbb"}
    monkeypatch.setattr(
        "privacy.personal_data.pseudonyms.preferred_code",
        lambda user_id, length=4: shared.get(user_id, f"{user_id:016x}")[:length],
    )
    Pseudonym.objects.create(user=holder, code="bbbb")
    kept = pseudonym_for(had)
    pseudonyms_ensure([third.pk, second.pk, first.pk, had.pk, None])
    assert _codes([first, second, third]) == ["aaaa", "aaaaaa", "bbbbbb"]
    assert Pseudonym.objects.get(user=had) == kept
    pseudonyms_ensure([first.pk, second.pk, third.pk])  # nothing left to do: nothing changes
    assert _codes([first, second, third]) == ["aaaa", "aaaaaa", "bbbbbb"]
    assert Pseudonym.objects.count() == 5
