"""The email-change form must not tell whether another account uses an address (issue 12)."""

import re

from django.core import mail

from privacy.account.models import EmailChange
from privacy.account.views import EMAIL_SENT
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.privacy.selfservice_support import _fresh_policy_cache  # noqa: F401
from workspaces.models import Role, User

CONFIRM_LINK_RE = re.compile(r"/account/email/confirm/\S+/")


def ask(client, user, address, capture):
    client.force_login(user)
    with capture(execute=True):
        return client.post("/account/email/", {"email-new_email": address, "email-password": PASSWORD})


def normalized(page: str, user, address: str) -> str:
    """The page with what differs between two people (their own address and name, the address
    asked for, tokens, clock times, session row ids) blanked out."""
    main = page[page.index("<main") : page.index("</main>")]
    main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)
    main = re.sub(r"\d{1,2} \w{3} \d{4}, \d\d:\d\d", "TIME", main)
    main = re.sub(r'datetime="[^"]+">[^<]+<', 'datetime="TIME">TIME<', main)
    # Each person's signed-in sessions have their own row ids.
    main = re.sub(r'data-session="\d+"', 'data-session="ID"', main)
    main = re.sub(r"/account/sessions/\d+/", "/account/sessions/ID/", main)
    for value, mark in ((address, "ADDRESS"), (user.email, "ME"), (user.display_name, "NAME")):
        main = main.replace(value, mark)
    return main


def test_a_taken_and_a_free_address_get_the_same_answer(
    client, workspace, django_capture_on_commit_callbacks
):
    owner = UserFactory(email="taken@example.test", display_name="Olga Owner")
    asker_free, asker_taken = (
        MembershipFactory(workspace=workspace, role=Role.REQUESTER, user=UserFactory(display_name=name)).user
        for name in ("Asker One", "Asker Two")
    )

    free = ask(client, asker_free, "free@example.test", django_capture_on_commit_callbacks)
    free_page = client.get(free["Location"]).content.decode()
    taken = ask(client, asker_taken, "Taken@Example.test", django_capture_on_commit_callbacks)
    taken_page = client.get(taken["Location"]).content.decode()

    assert free.status_code == taken.status_code == 302
    assert free["Location"] == taken["Location"]
    assert EMAIL_SENT.format(email="taken@example.test") in taken_page
    assert "Waiting for confirmation of <strong>taken@example.test</strong>" in taken_page
    assert normalized(free_page, asker_free, "free@example.test") == normalized(
        taken_page, asker_taken, "taken@example.test"
    )
    # The same audit event either way (a person's own events are in their export).
    free_events, taken_events = (
        list(
            AuditEvent.objects.filter(actor=user).exclude(action="auth.login").values_list("action", "detail")
        )
        for user in (asker_free, asker_taken)
    )
    assert free_events == taken_events and len(free_events) == 1

    # The free address gets the link; the taken one's owner gets a notice without any link.
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"free@example.test", "taken@example.test"}
    assert CONFIRM_LINK_RE.search(by_address["free@example.test"].body)
    notice = by_address["taken@example.test"]
    assert not CONFIRM_LINK_RE.search(notice.body)
    assert "nothing was changed" in notice.body
    assert asker_taken.email not in notice.body and "Asker Two" not in notice.body
    # Nothing can move the owner's address to the asker.
    assert EmailChange.objects.filter(user=asker_taken, new_email="taken@example.test").exists()
    assert User.objects.get(pk=owner.pk).email == "taken@example.test"
    assert User.objects.get(pk=asker_taken.pk).email != "taken@example.test"
