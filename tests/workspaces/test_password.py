import json
import re

import pytest
from django.urls import reverse

from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber-lantern-river-77"
RESET_LINK_RE = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")


def events(action):
    return list(AuditEvent.objects.filter(action=action))


@pytest.fixture
def ann(db):
    return UserFactory(email="ann@example.test")


def request_reset(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def test_password_reset_email_holds_a_working_link(client, ann, mailoutbox):
    response = request_reset(client, "Ann@Example.test")

    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ann@example.test"]
    (path,) = RESET_LINK_RE.findall(mailoutbox[0].body)
    (requested,) = events(audit_actions.AUTH_PASSWORD_RESET_REQUESTED)
    assert (requested.target_id, requested.workspace_id, requested.actor_id) == (str(ann.pk), None, None)

    form_page = client.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert done["Location"] == reverse("password_reset_complete")
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)
    (event,) = events(audit_actions.AUTH_PASSWORD_RESET_DONE)
    assert (event.actor_id, event.target_id, event.workspace_id) == (ann.pk, str(ann.pk), None)
    blob = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert NEW_PASSWORD not in blob
    assert path.split("/")[-2] not in blob  # the reset token

    # The link works once.
    again = client.get(path, follow=True)
    assert "This link has expired" in again.content.decode()
    login = client.post(reverse("login"), {"username": "ann@example.test", "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_reset_for_an_unknown_address_looks_the_same_and_records_no_address(client, db, mailoutbox):
    response = request_reset(client, "nobody@example.test")

    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []
    (event,) = events(audit_actions.AUTH_PASSWORD_RESET_REQUESTED)
    assert (event.target_id, event.actor_label, event.detail) == ("", "", {"known_account": False})
    assert "nobody" not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_tampered_reset_link_is_refused_and_changes_nothing(client, ann, mailoutbox):
    request_reset(client, ann.email)
    (path,) = RESET_LINK_RE.findall(mailoutbox[0].body)
    tampered = path[:-3] + "zz/"

    response = client.get(tampered, follow=True)

    assert "This link has expired" in response.content.decode()
    ann.refresh_from_db()
    assert ann.check_password(PASSWORD)
    assert not events(audit_actions.AUTH_PASSWORD_RESET_DONE)


def test_a_password_reset_lifts_the_account_lockout(client, ann, mailoutbox, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": ann.email, "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    assert (
        client.post(
            reverse("login"), {"username": ann.email, "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
        )
    ).status_code == 429

    request_reset(client, ann.email)
    (path,) = RESET_LINK_RE.findall(mailoutbox[0].body)
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = client.post(
        reverse("login"), {"username": ann.email, "password": NEW_PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302


def test_password_change_works_and_is_audited_once(client, ann):
    client.force_login(ann)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == reverse("password_change_done")
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)
    assert client.get(reverse("account")).status_code == 200  # still signed in
    (event,) = events(audit_actions.AUTH_PASSWORD_CHANGED)
    assert (event.actor_id, event.target_id, event.workspace_id) == (ann.pk, str(ann.pk), None)
    assert NEW_PASSWORD not in json.dumps(event.detail)
    assert PASSWORD not in json.dumps(event.detail)


def test_password_change_with_a_wrong_old_password_changes_nothing(client, ann):
    client.force_login(ann)

    response = client.post(
        reverse("password_change"),
        {"old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    ann.refresh_from_db()
    assert ann.check_password(PASSWORD)
    assert not events(audit_actions.AUTH_PASSWORD_CHANGED)


def test_password_change_needs_a_signed_in_person(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
