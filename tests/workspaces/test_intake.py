"""A way in for requesters: the workspace's intake setting, its Get help link /help/<slug>/ and the
public form whose request waits for the confirmed address (README "A way in for requesters")."""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.exceptions import ValidationError

from privacy.account import signup
from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.conftest import make_member
from tests.factories import UserFactory
from tickets.models import Ticket
from workspaces.intake import (
    DOMAIN_REFUSED,
    INTAKE_CLOSED,
    help_request_hold,
    intake_settings_set,
    requester_join,
)
from workspaces.intake_models import HelpRequest
from workspaces.models import Intake, Membership, Role, User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "pale-orange-kettle-42"
HELP_URL = "/help/acme/"
CONFIRM_RE = re.compile(r"http://\S+?(/accounts/signup/confirm/[^/\s]+/)")
INITIAL_POLICIES = importlib.import_module("privacy.migrations.0003_initial_policies")


@pytest.fixture
def policies(db):
    INITIAL_POLICIES.publish(django_apps, None)
    return signup.policies_current()


def set_intake(workspace, intake, domains=""):
    workspace.intake = intake
    workspace.intake_domains = domains
    workspace.save(update_fields=["intake", "intake_domains"])


@pytest.fixture
def ask(client, policies, django_capture_on_commit_callbacks):
    """Send the public Get help form as an anonymous visitor."""

    def do(email="cal@example.test", subject="Printer on fire", url=HELP_URL, **extra):
        data = {
            "display_name": "Cal Caller",
            "email": email,
            "subject": subject,
            "description": "It makes a smell.",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "accept_policies": "on",
            "age_confirmed": "on",
            "policies_shown": f"{policies.terms.pk},{policies.privacy.pk}",
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return do


def confirm(client, message, django_capture_on_commit_callbacks):
    path = CONFIRM_RE.search(message.body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(path, {"password": NEW_PASSWORD})


# The setting ------------------------------------------------------------------------------------


def test_admin_sets_intake_and_it_is_audited(client, workspace, admin):
    client.force_login(admin.user)
    page = client.get("/w/acme/admin/requesters/")
    assert page.status_code == 200
    assert "Who may open tickets" in page.content.decode()

    response = client.post(
        "/w/acme/admin/requesters/", {"intake": "signup", "intake_domains": "@Example.com, example.org"}
    )

    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.intake, workspace.intake_domains) == ("signup", "example.com example.org")
    event = AuditEvent.objects.get(action=actions.SETTINGS_CHANGED, workspace=workspace)
    assert event.detail == {
        "setting": "intake",
        "old": {"intake": "invited", "intake_domains": ""},
        "new": {"intake": "signup", "intake_domains": "example.com example.org"},
    }
    assert "/help/acme/" in client.get("/w/acme/admin/requesters/").content.decode()


def test_bad_domain_is_refused_with_a_message_and_nothing_changes(client, workspace, admin):
    client.force_login(admin.user)

    response = client.post(
        "/w/acme/admin/requesters/", {"intake": "public", "intake_domains": "not a domain!"}
    )

    assert response.status_code == 400
    assert "is not an email domain" in response.content.decode()
    workspace.refresh_from_db()
    assert workspace.intake == Intake.INVITED
    assert not AuditEvent.objects.filter(action=actions.SETTINGS_CHANGED).exists()


def test_saving_the_same_setting_audits_nothing(workspace, admin):
    intake_settings_set(workspace=workspace, intake="invited", domains="", actor=admin.user)
    assert not AuditEvent.objects.filter(action=actions.SETTINGS_CHANGED).exists()


def test_requester_and_agent_cannot_reach_the_setting(client, workspace, requester, agent):
    for membership in (requester, agent):
        client.force_login(membership.user)
        assert client.get("/w/acme/admin/requesters/").status_code == 404


# Invited only: the link does not exist ------------------------------------------------------------


def test_invited_only_workspace_link_is_404_like_a_missing_one(client, workspace, ask):
    assert client.get(HELP_URL).status_code == 404
    assert client.get("/help/no-such-workspace/").status_code == 404
    assert ask().status_code == 404
    client.force_login(UserFactory())
    assert client.get(HELP_URL).status_code == 404
    assert client.post(HELP_URL).status_code == 404
    assert not User.objects.filter(email="cal@example.test").exists()
    assert mail.outbox == []


# Anyone who signs up ------------------------------------------------------------------------------


def test_signed_in_person_joins_as_requester_and_lands_on_the_new_ticket_form(client, workspace, queue):
    set_intake(workspace, Intake.SIGNUP)
    person = UserFactory(email="dee@example.test")
    client.force_login(person)

    page = client.get(HELP_URL)
    assert page.status_code == 200
    assert "Join and open a ticket" in page.content.decode()
    assert not Membership.objects.filter(user=person).exists()

    response = client.post(HELP_URL)

    assert response.status_code == 302
    assert response["Location"] == "/w/acme/tickets/new/"
    assert Membership.objects.get(user=person, workspace=workspace).role == Role.REQUESTER
    event = AuditEvent.objects.get(action=actions.MEMBER_ADDED, workspace=workspace)
    assert event.actor_id == person.pk
    assert client.get("/w/acme/tickets/new/").status_code == 200
    # Once a member, the link goes straight to the form.
    assert client.get(HELP_URL)["Location"] == "/w/acme/tickets/new/"


def test_domain_restriction_refuses_other_addresses(client, workspace, queue):
    set_intake(workspace, Intake.SIGNUP, "example.com")
    outsider = UserFactory(email="eve@elsewhere.test")
    client.force_login(outsider)

    response = client.post(HELP_URL)

    assert response.status_code == 403
    assert DOMAIN_REFUSED.format(domains="example.com") in response.content.decode()
    assert not Membership.objects.filter(user=outsider).exists()

    insider = UserFactory(email="fay@EXAMPLE.com")
    client.force_login(insider)
    assert client.post(HELP_URL).status_code == 302
    assert Membership.objects.filter(user=insider, workspace=workspace, role=Role.REQUESTER).exists()


def test_anonymous_visitor_of_a_signup_workspace_is_asked_to_sign_in(client, workspace, ask):
    set_intake(workspace, Intake.SIGNUP)
    page = client.get(HELP_URL)
    assert page.status_code == 200
    assert "/accounts/login/?next=/help/acme/" in page.content.decode()
    # The public form is not open in this mode: a POST creates nothing.
    ask()
    assert not User.objects.filter(email="cal@example.test").exists()
    assert mail.outbox == []


def test_an_existing_member_keeps_their_role(client, workspace, agent):
    set_intake(workspace, Intake.SIGNUP)
    client.force_login(agent.user)
    client.post(HELP_URL)
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_the_empty_home_page_explains_the_get_help_link(client):
    client.force_login(UserFactory())
    body = client.get("/").content.decode()
    assert "Get help link" in body


# Public Get help form -----------------------------------------------------------------------------


def test_public_form_explains_the_password_in_the_visitors_language(client, workspace, policies):
    set_intake(workspace, Intake.PUBLIC)

    html = client.get(HELP_URL, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    assert "For your new account" not in html
    assert "Für Ihr neues Konto, in dem Sie die Antworten verfolgen." in html


def test_public_form_holds_the_request_until_the_address_is_confirmed(
    client, workspace, queue, ask, django_capture_on_commit_callbacks
):
    set_intake(workspace, Intake.PUBLIC)
    assert "How can we help?" in client.get(HELP_URL).content.decode()

    response = ask()

    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    person = User.objects.get(email="cal@example.test")
    assert person.is_pending_signup
    assert not Ticket.objects.exists()
    assert not Membership.objects.filter(user=person).exists()
    assert HelpRequest.objects.filter(user=person, workspace=workspace).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["cal@example.test"]

    answer = confirm(client, mail.outbox[0], django_capture_on_commit_callbacks)

    assert answer.status_code == 302
    ticket = Ticket.objects.get(workspace=workspace)
    assert (ticket.subject, ticket.requester_id, ticket.queue_id) == ("Printer on fire", person.pk, queue.pk)
    assert Membership.objects.get(user=person, workspace=workspace).role == Role.REQUESTER
    assert not HelpRequest.objects.exists()
    page = client.get(f"/w/acme/tickets/{ticket.number}/")
    assert page.status_code == 200 and "It makes a smell." in page.content.decode()


def test_existing_account_gets_a_notice_and_the_same_page(client, workspace, queue, ask):
    set_intake(workspace, Intake.PUBLIC)
    UserFactory(email="known@example.test")

    known = ask(email="known@example.test")
    unknown = ask(email="fresh@example.test")

    def page(response):
        # Every page's language switcher carries a CSRF token, masked afresh on each response.
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return html.replace("known@example.test", "X").replace("fresh@example.test", "X")

    assert known.status_code == unknown.status_code == 200
    assert page(known) == page(unknown)
    notice = next(m for m in mail.outbox if m.to == ["known@example.test"])
    assert "/help/acme/" in notice.body and "/accounts/signup/confirm/" not in notice.body
    assert not HelpRequest.objects.filter(user__email="known@example.test").exists()
    assert not Ticket.objects.exists()


def test_public_form_refuses_other_domains(client, workspace, ask):
    set_intake(workspace, Intake.PUBLIC, "example.com")

    response = ask(email="cal@elsewhere.test")

    assert response.status_code == 400
    assert DOMAIN_REFUSED.format(domains="example.com") in response.content.decode()
    assert not User.objects.filter(email="cal@elsewhere.test").exists()
    assert mail.outbox == []


def test_public_form_is_rate_limited_per_address(client, workspace, ask, settings, ratelimit_clock):
    set_intake(workspace, Intake.PUBLIC)
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": {"address": (2, 3600), "ip": (50, 3600)}}

    answers = [ask().status_code for _ in range(3)]

    assert answers == [200, 200, 429]
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action=actions.RATE_LIMIT_REFUSED).exists()


def test_a_takeover_of_a_pending_address_drops_the_earlier_request(
    client, workspace, queue, ask, django_capture_on_commit_callbacks
):
    set_intake(workspace, Intake.PUBLIC)
    ask(subject="Written by someone else")
    ask(subject="My own request")

    confirm(client, mail.outbox[-1], django_capture_on_commit_callbacks)

    assert list(Ticket.objects.values_list("subject", flat=True)) == ["My own request"]


def test_confirmation_after_the_workspace_closed_opens_nothing(
    client, workspace, queue, ask, django_capture_on_commit_callbacks
):
    set_intake(workspace, Intake.PUBLIC)
    ask()
    set_intake(workspace, Intake.INVITED)

    confirm(client, mail.outbox[0], django_capture_on_commit_callbacks)

    assert not Ticket.objects.exists()
    assert not Membership.objects.filter(user__email="cal@example.test").exists()
    assert User.objects.get(email="cal@example.test").is_active


def test_purge_of_unconfirmed_sign_up_removes_the_held_request(workspace, ask):
    set_intake(workspace, Intake.PUBLIC)
    ask()
    User.objects.filter(email="cal@example.test").update(date_joined="2000-01-01T00:00Z")

    assert signup.signups_purge() == 1

    assert not HelpRequest.objects.exists()


def test_a_closed_workspace_refuses_a_held_request_service(workspace):
    with pytest.raises(ValidationError) as error:
        help_request_hold(workspace=workspace, user=UserFactory(), subject="x", description="y")
    assert str(INTAKE_CLOSED) in error.value.messages


def test_other_workspace_member_status_does_not_leak(client, workspace, other_workspace):
    """A member of another workspace sees the same join page as anybody."""
    set_intake(workspace, Intake.SIGNUP)
    stranger = make_member(other_workspace, Role.ADMIN)
    client.force_login(stranger.user)
    body = client.get(HELP_URL).content.decode()
    assert other_workspace.name not in body.split("<main", 1)[-1]


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_make_one_membership(workspace):
    set_intake(workspace, Intake.SIGNUP)
    person = UserFactory(email="dee@example.test")

    run_threads(2, lambda index: requester_join(workspace=workspace, user=person))

    assert Membership.objects.filter(user=person, workspace=workspace).count() == 1
    assert AuditEvent.objects.filter(action=actions.MEMBER_ADDED, workspace=workspace).count() == 1
