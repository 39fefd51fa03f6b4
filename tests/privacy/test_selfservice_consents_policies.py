"""Consents (recorded with time and policy version; withdrawing stops processing at once) and
privacy-policy versions (published by site staff; a notice on the next page; a material change
asks for an acknowledgment)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy.account.consents import (
    UNKNOWN_PURPOSE,
    consents_current,
    consents_set,
    has_consent,
    users_with_consent,
)
from privacy.account.models import Consent, PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.account.policies import (
    VERSION_TAKEN,
    policies_pending,
    policy_accept,
    policy_current,
    policy_publish,
)
from privacy.account.views import CONSENTS_SAVED, POLICIES_ACCEPTED
from privacy.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.privacy.selfservice_support import _fresh_policy_cache  # noqa: F401


def accept_all(user):
    policy_accept(user=user, policy_ids=PolicyVersion.objects.values_list("pk", flat=True))


# Consents ---------------------------------------------------------------------------------------------------


def test_consent_given_and_withdrawn_from_the_page_is_recorded_and_effective_at_once(client, requester):
    user = requester.user
    assert has_consent(user, "product_updates") is False
    client.force_login(user)
    response = client.post("/account/consents/", {"consent-product_updates": "on"}, follow=True)
    assert str(CONSENTS_SAVED) in response.content.decode()
    assert has_consent(user, "product_updates") is True
    assert list(users_with_consent("product_updates")) == [user]
    client.post("/account/consents/", {})
    assert has_consent(user, "product_updates") is False
    assert list(users_with_consent("product_updates")) == []
    history = list(
        Consent.objects.filter(user=user).order_by("created_at", "id").values_list("purpose", "granted")
    )
    assert history == [("product_updates", True), ("product_updates", False)]
    privacy = policy_current(kind=PolicyKind.PRIVACY)  # the newest of the published versions
    assert set(Consent.objects.values_list("policy_id", flat=True)) == {privacy.pk}
    assert AuditEvent.objects.filter(action="account.updated", actor=user).count() == 2
    assert "History of your choices" in client.get("/account/").content.decode()


def test_saving_unchanged_choices_records_nothing(requester):
    assert consents_set(user=requester.user, answers={"product_updates": False}) == []
    assert not Consent.objects.exists()
    assert consents_current(requester.user) == {"product_updates": False, "user_research": False}


def test_unknown_purposes_are_refused(requester):
    with pytest.raises(ValueError, match="Unknown consent purpose"):
        has_consent(requester.user, "selling_data")
    assert "selling_data" in UNKNOWN_PURPOSE.format(purpose="selling_data")


def test_a_deactivated_account_has_no_consent(requester):
    consents_set(user=requester.user, answers={"product_updates": True})
    requester.user.is_active = False
    assert has_consent(requester.user, "product_updates") is False


# Policies ---------------------------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


def test_only_site_staff_reach_the_publishing_page(client, requester, staff):
    client.force_login(requester.user)
    assert client.get("/account/policies/").status_code == 404
    client.force_login(staff)
    assert client.get("/account/policies/").status_code == 200


def test_publishing_a_minor_version_shows_a_notice_that_can_be_dismissed(client, requester, staff):
    user = requester.user
    accept_all(user)
    client.force_login(user)
    assert "We updated our" not in client.get("/account/").content.decode()
    client.force_login(staff)
    response = client.post(
        "/account/policies/",
        {"kind": "privacy", "version": "2027-01-15", "summary": "Typo fixes.", "is_material": ""},
        follow=True,
    )
    assert "was published" in response.content.decode()
    assert AuditEvent.objects.filter(action="settings.changed", actor=staff).exists()
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "We updated our privacy policy (version 2027-01-15)" in page
    assert "The changes are minor." in page
    response = client.post(reverse("account_policies_review"), {"next": "/account/"}, follow=True)
    assert str(POLICIES_ACCEPTED) in response.content.decode()
    assert "We updated our" not in client.get("/account/").content.decode()
    assert PolicyAcceptance.objects.filter(user=user, policy__version="2027-01-15").exists()


def test_a_material_change_asks_for_an_acknowledgment_on_its_own_page(client, requester):
    user = requester.user
    accept_all(user)
    policy_publish(kind="terms", version="2027-02-01", summary="New arbitration clause.", is_material=True)
    policy_publish(kind="terms", version="2027-02-02", summary="Typo.", is_material=False)
    [pending] = policies_pending(user)
    assert pending.version == "2027-02-02" and pending.material  # a material one was skipped
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "please read and acknowledge them" in page
    review = client.get(reverse("account_policies_review")).content.decode()
    assert "Typo." in review and "I have read and accept" in review
    client.post(reverse("account_policies_review"))
    assert policies_pending(user) == []
    assert (
        AuditEvent.objects.filter(
            action="account.policy_accepted", actor=user, detail__version="2027-02-02"
        ).count()
        == 1
    )


def test_the_notice_costs_no_query_once_worked_out(client, requester, django_assert_num_queries):
    from privacy.account.policies import policy_notice_for

    accept_all(requester.user)
    client.force_login(requester.user)
    request = client.get("/account/").wsgi_request
    with django_assert_num_queries(0):
        assert policy_notice_for(request) == []


def test_versions_are_unique_and_future_versions_wait(requester, staff):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        policy_publish(kind="privacy", version="2026-11-01", summary="x", is_material=False)
    assert VERSION_TAKEN.format(kind="privacy policy", version="2026-11-01") in str(error.value)
    accept_all(requester.user)
    policy_publish(
        kind="privacy",
        version="2099-01-01",
        summary="Later.",
        is_material=True,
        published_at=timezone.now() + timezone.timedelta(days=30),
    )
    assert policies_pending(requester.user) == []
