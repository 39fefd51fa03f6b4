import json

import pytest
from django.urls import reverse

from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from workspaces.forms import EmailAuthenticationForm

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
INVALID_LOGIN = EmailAuthenticationForm.error_messages["invalid_login"]


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def attempt(client, email, password, ip="192.0.2.10"):
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def ann(db):
    return UserFactory(email="ann@example.test")


def test_sign_in_with_mixed_case_email_works_and_is_audited_once(client, ann):
    response = attempt(client, "  ANN@Example.Test ", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert int(client.session["_auth_user_id"]) == ann.pk
    (event,) = events(audit_actions.AUTH_LOGIN)
    assert (event.actor_id, event.workspace_id, event.ip_address) == (ann.pk, None, "192.0.2.10")
    assert not events(audit_actions.AUTH_LOGIN_FAILED)


def test_sign_out_is_a_post_and_is_audited_once(client, ann):
    client.force_login(ann)
    assert client.get("/accounts/logout/").status_code == 405
    assert not events(audit_actions.AUTH_LOGOUT)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    (event,) = events(audit_actions.AUTH_LOGOUT)
    assert (event.actor_id, event.workspace_id) == (ann.pk, None)


def test_signing_out_when_not_signed_in_records_nothing(client, db):
    client.post("/accounts/logout/")
    assert not events(audit_actions.AUTH_LOGOUT)


def test_wrong_password_for_a_known_account_names_the_account_by_id_only(client, ann):
    response = attempt(client, "ann@example.test", "not-the-password")

    assert response.status_code == 200
    assert str(INVALID_LOGIN) in response.content.decode()
    (event,) = events(audit_actions.AUTH_LOGIN_FAILED)
    assert (event.actor_id, event.actor_label, event.workspace_id) == (None, "", None)
    assert (event.target_type, event.target_id) == ("workspaces.user", str(ann.pk))
    assert event.ip_address == "192.0.2.10"
    assert "not-the-password" not in json.dumps(event.detail)
    assert not events(audit_actions.AUTH_LOGIN)


def test_failed_sign_in_for_an_unknown_email_records_no_address(client, db):
    response = attempt(client, "stranger@example.test", "whatever-password", ip="198.51.100.7")

    assert response.status_code == 200
    assert str(INVALID_LOGIN) in response.content.decode()
    (event,) = events(audit_actions.AUTH_LOGIN_FAILED)
    assert event.ip_address == "198.51.100.7"
    assert (event.target_type, event.target_id, event.actor_label, event.detail) == ("", "", "", {})
    row = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "stranger" not in row
    assert "whatever-password" not in row


def test_an_unconfirmed_signup_cannot_sign_in(client, db):
    UserFactory(email="new@example.test", is_active=False, email_confirmed_at=None)
    response = attempt(client, "new@example.test", PASSWORD)
    assert str(INVALID_LOGIN) in response.content.decode()
    assert "_auth_user_id" not in client.session
