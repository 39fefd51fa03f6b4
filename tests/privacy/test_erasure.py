"""Account deletion: deactivation at once, the grace period, cancelling by signing in, the
erasure walk, idempotence, failures, holds, pseudonyms."""

import dataclasses
import io
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from privacy.account import erasure as erasure_module
from privacy.account.backends import DELETION_CANCELLED
from privacy.account.erasure import erasure_request, erasure_run
from privacy.account.forms import CONFIRM_WORD_WRONG, WRONG_PASSWORD
from privacy.account.models import ErasureRequest, ErasureState
from privacy.audit.models import AuditEvent
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import HeldObjects
from privacy.personal_data.models import Pseudonym
from privacy.personal_data.pseudonyms import mask_email, mask_name, pseudonym_for
from tests.conftest import make_member
from tests.factories import PASSWORD, MessageFactory, TicketFactory, UserFactory
from tests.privacy.selfservice_support import _fresh_policy_cache, person_with_tickets  # noqa: F401
from tickets.anonymize import REDACTED_MESSAGE
from tickets.models import Message, MessageKind, Ticket
from tickets.personal_data import REDACTED_SUBJECT
from workspaces.models import Membership, Role, User
from workspaces.personal_data import LAST_ADMIN_DELETION

DELETE_URL = "/account/delete/"


def delete_form(password=PASSWORD, confirm="DELETE"):
    return {"delete-password": password, "delete-confirm": confirm}


def sign_in(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


# Requesting ------------------------------------------------------------


def test_wrong_password_or_confirmation_is_refused_with_a_clear_message(client, requester):
    client.force_login(requester.user)
    response = client.post(DELETE_URL, delete_form(password="nope"))
    assert response.status_code == 400
    assert str(WRONG_PASSWORD) in response.content.decode()
    response = client.post(DELETE_URL, delete_form(confirm="delete"))
    assert str(CONFIRM_WORD_WRONG) in response.content.decode()
    requester.user.refresh_from_db()
    assert requester.user.is_active
    assert not ErasureRequest.objects.exists()


def test_requesting_deactivates_at_once_and_signs_out_everywhere(client, requester, settings):
    settings.ACCOUNT_ERASURE_GRACE_DAYS = 14
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(requester.user)
    client.force_login(requester.user)
    response = client.post(DELETE_URL, delete_form())
    assert response.status_code == 302
    assert response["Location"] == reverse("account_deleted")
    page = client.get(reverse("account_deleted"))
    assert "Sign in" in page.content.decode() and "before then" in page.content.decode()
    user = User.objects.get(pk=requester.user.pk)
    assert not user.is_active
    erasure = ErasureRequest.objects.get(user=user)
    assert erasure.state == ErasureState.SCHEDULED
    assert timedelta(days=13, hours=23) < erasure.scheduled_for - timezone.now() <= timedelta(days=14)
    assert erasure.masked_email == mask_email(user.email) and erasure.masked_name == mask_name(
        user.display_name
    )
    assert user.email not in erasure.masked_email
    # Both browsers are signed out; the other one's session row is gone.
    assert client.get("/account/").status_code == 302
    assert elsewhere.get("/account/").status_code == 302
    assert not [s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)]
    assert AuditEvent.objects.filter(action="account.deletion_requested", actor=user).count() == 1


def test_the_last_admin_must_hand_over_first(client, admin):
    client.force_login(admin.user)
    response = client.post(DELETE_URL, delete_form())
    assert response.status_code == 400
    expected = LAST_ADMIN_DELETION.format(workspaces="“Acme”")
    assert expected in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert "only admin of" in client.get("/account/").content.decode()
    admin.user.refresh_from_db()
    assert admin.user.is_active
    # With a second admin, the first may go.
    make_member(admin.workspace, Role.ADMIN)
    assert client.post(DELETE_URL, delete_form()).status_code == 302


# Cancelling by signing in --------------------------------------------------------------------------------


def test_signing_in_during_the_grace_period_cancels_the_deletion(client, requester):
    user = requester.user
    erasure_request(user=user)
    response = sign_in(client, user.email)
    assert response.status_code == 302
    home = client.get(response["Location"], follow=True)
    assert str(DELETION_CANCELLED) in home.content.decode()
    user.refresh_from_db()
    assert user.is_active
    assert ErasureRequest.objects.get(user=user).state == ErasureState.CANCELLED
    assert AuditEvent.objects.filter(action="account.deletion_cancelled", actor=user).count() == 1
    assert client.get("/account/").status_code == 200


def test_a_wrong_password_does_not_cancel(client, requester):
    user = requester.user
    erasure_request(user=user)
    response = sign_in(client, user.email, password="wrong-password")
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()
    assert ErasureRequest.objects.get(user=user).state == ErasureState.SCHEDULED
    user.refresh_from_db()
    assert not user.is_active


def test_after_the_grace_period_signing_in_is_refused(client, requester):
    user = requester.user
    erasure = erasure_request(user=user)
    ErasureRequest.objects.filter(pk=erasure.pk).update(scheduled_for=timezone.now() - timedelta(minutes=1))
    response = sign_in(client, user.email)
    assert response.status_code == 200
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.SCHEDULED


def test_an_inactive_account_without_a_deletion_stays_refused(client, requester):
    User.objects.filter(pk=requester.user.pk).update(is_active=False)
    assert sign_in(client, requester.user.email).status_code == 200


# Running ------------------------------------------------------------


def test_nothing_happens_before_the_grace_period_ends(requester):
    erasure = erasure_request(user=requester.user)
    assert erasure_module.erasures_run_due() == 0
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.SCHEDULED
    later = timezone.now() + timedelta(days=15)
    assert erasure_module.erasures_run_due(now=later) == 1
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.DONE


def test_grace_zero_erases_right_after_commit(
    client, requester, settings, django_capture_on_commit_callbacks
):
    settings.ACCOUNT_ERASURE_GRACE_DAYS = 0
    client.force_login(requester.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(DELETE_URL, delete_form())
    erasure = ErasureRequest.objects.get(user_id=requester.user.pk)
    assert erasure.state == ErasureState.DONE
    assert "its data is being erased now" in client.get(reverse("account_deleted")).content.decode()
    assert erasure.finished_at is not None and erasure.counts["profile_erased"] == 1


def test_requester_words_are_redacted_agent_words_kept_under_a_pseudonym(workspace, queue, agent):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    # The agent is erased too: their reply and note stay, under their own pseudonym.
    other_agent = make_member(workspace, Role.ADMIN)  # noqa: F841 - the workspace keeps an admin
    erasure_run(erasure_id=erasure_request(user=membership.user, grace=0).pk, force=True)
    erasure_run(erasure_id=erasure_request(user=agent.user, grace=0).pk, force=True)
    bodies = dict(Message.objects.filter(ticket=ticket).values_list("body", "author_id"))
    assert bodies[REDACTED_MESSAGE] == membership.user.pk
    assert bodies["Unplug it, we are on our way."] == agent.user.pk
    assert bodies["SECRET-NOTE customer sounds upset"] == agent.user.pk
    ticket.refresh_from_db()
    assert ticket.subject == REDACTED_SUBJECT
    requester_label = Pseudonym.objects.get(user=membership.user).label
    agent_label = Pseudonym.objects.get(user=agent.user).label
    assert requester_label != agent_label
    assert str(User.objects.get(pk=agent.user.pk)) == agent_label


def test_erasure_is_idempotent_and_a_finished_request_is_never_run_again(requester, workspace, queue):
    TicketFactory(workspace=workspace, queue=queue, requester=requester.user)
    erasure = erasure_request(user=requester.user, grace=0)
    first = erasure_run(erasure_id=erasure.pk, force=True)
    assert first.state == ErasureState.DONE
    assert first.counts["ticket_subjects_redacted"] == 1
    assert first.counts["memberships_ended"] == 1
    again = erasure_run(erasure_id=erasure.pk, force=True)
    assert again.state == ErasureState.DONE and again.attempts == 1
    # Walking the registry again changes nothing.
    from privacy.account.erasure import erase_account_data

    counts, _ = erase_account_data(User.objects.get(pk=requester.user.pk))
    assert counts["ticket_subjects_redacted"] == 0 and counts["messages_redacted"] == 0
    assert counts["memberships_ended"] == 0
    assert AuditEvent.objects.filter(action="account.deleted").count() == 1


def test_a_failure_rolls_everything_back_is_recorded_masked_and_can_be_rerun(
    requester, workspace, queue, monkeypatch
):
    user = requester.user
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=user)
    erasure = erasure_request(user=user, grace=0)

    def explode(ctx, entry):
        raise RuntimeError(f"storage said no for {ctx.email}")

    # Erasure reaches memberships only through their registration: replacing it is enough.
    entry = registry.entry_for(Membership)
    monkeypatch.setitem(registry._REGISTRY, entry.label, dataclasses.replace(entry, erase=explode))
    failed = erasure_run(erasure_id=erasure.pk, force=True)
    assert failed.state == ErasureState.FAILED
    assert failed.error == "RuntimeError: storage said no for ***"
    ticket.refresh_from_db()
    assert ticket.subject != REDACTED_SUBJECT  # rolled back
    assert User.objects.get(pk=user.pk).email == user.email
    monkeypatch.undo()
    done = erasure_run(erasure_id=erasure.pk)
    assert done.state == ErasureState.DONE and done.attempts == 2


def test_held_objects_are_kept_and_listed(requester, workspace, queue, monkeypatch):
    user = requester.user
    held_ticket = TicketFactory(workspace=workspace, queue=queue, requester=user, subject="Held subject")
    held_message = MessageFactory(ticket=held_ticket, author=user, body="Held words")
    free_ticket = TicketFactory(workspace=workspace, queue=queue, requester=user)
    hold = HeldObjects(
        ticket_ids=frozenset({held_ticket.pk}),
        message_ids=frozenset({held_message.pk}),
        reasons=({"hold": 1, "reason": "Court order 12/2026", "tickets": [held_ticket.number]},),
    )
    monkeypatch.setattr(erasure_module, "held_objects_for", lambda u: hold)
    erasure = erasure_run(erasure_id=erasure_request(user=user, grace=0).pk, force=True)
    assert erasure.state == ErasureState.DONE
    assert Ticket.objects.get(pk=held_ticket.pk).subject == "Held subject"
    assert Message.objects.get(pk=held_message.pk).body == "Held words"
    assert Ticket.objects.get(pk=free_ticket.pk).subject == REDACTED_SUBJECT
    assert erasure.kept == [{"hold": 1, "reason": "Court order 12/2026", "tickets": [held_ticket.number]}]


def test_pseudonyms_are_stable_and_never_shared(monkeypatch, db):
    first, second = UserFactory(), UserFactory()
    monkeypatch.setattr(
        "privacy.personal_data.pseudonyms.preferred_code",
        lambda user_id, length=4: "7f3a7f3a7f3a7f3a"[:length],
    )
    a = pseudonym_for(first)
    b = pseudonym_for(second)
    assert a.label == "Deleted user 7f3a"
    assert b.label == "Deleted user 7f3a7f"
    assert pseudonym_for(first).pk == a.pk


def test_masks():
    assert mask_name("John Doe") == "J*** D**"
    assert mask_email("john@example.com") == "j***@e******.com"


# Commands ------------------------------------------------------------


def test_erase_user_command_schedules_or_erases_now(requester, settings):
    settings.ACCOUNT_ERASURE_GRACE_DAYS = 14
    out = io.StringIO()
    call_command("erase_user", requester.user.email.upper(), stdout=out)
    assert "scheduled for" in out.getvalue()
    erasure = ErasureRequest.objects.get(user=requester.user)
    assert erasure.requested_via == "operator" and erasure.state == ErasureState.SCHEDULED
    out = io.StringIO()
    call_command("erase_user", requester.user.email, "--now", stdout=out)
    assert "Erased" in out.getvalue()
    assert ErasureRequest.objects.get(pk=erasure.pk).state == ErasureState.DONE
    assert not Membership.objects.filter(user_id=requester.user.pk).exists()


def test_erase_user_command_errors(admin):
    with pytest.raises(CommandError, match="No account uses"):
        call_command("erase_user", "nobody@example.test")
    with pytest.raises(CommandError, match="only admin"):
        call_command("erase_user", admin.user.email, "--now")


def test_deleted_users_show_as_their_pseudonym_in_ticket_threads(workspace, queue, agent):
    membership, ticket = person_with_tickets(workspace, queue, agent_membership=agent)
    erasure = erasure_run(erasure_id=erasure_request(user=membership.user, grace=0).pk, force=True)
    first = Message.objects.filter(ticket=ticket).select_related("author").first()
    assert str(first.author) == erasure.pseudonym
    assert first.kind == MessageKind.REPLY
