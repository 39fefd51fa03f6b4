import json

import pytest
from django.urls import reverse

from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from workspaces import auth_audit
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
    assert INVALID_LOGIN in response.content.decode()
    (event,) = events(audit_actions.AUTH_LOGIN_FAILED)
    assert (event.actor_id, event.actor_label, event.workspace_id) == (None, "", None)
    assert (event.target_type, event.target_id) == ("workspaces.user", str(ann.pk))
    assert event.ip_address == "192.0.2.10"
    assert "not-the-password" not in json.dumps(event.detail)
    assert not events(audit_actions.AUTH_LOGIN)


def test_failed_sign_in_for_an_unknown_email_records_no_address(client, db):
    response = attempt(client, "stranger@example.test", "whatever-password", ip="198.51.100.7")

    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()
    (event,) = events(audit_actions.AUTH_LOGIN_FAILED)
    assert event.ip_address == "198.51.100.7"
    assert (event.target_type, event.target_id, event.actor_label, event.detail) == ("", "", "", {})
    row = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert "stranger" not in row
    assert "whatever-password" not in row


def test_an_unconfirmed_signup_cannot_sign_in(client, db):
    UserFactory(email="new@example.test", is_active=False, email_confirmed_at=None)
    response = attempt(client, "new@example.test", PASSWORD)
    assert INVALID_LOGIN in response.content.decode()
    assert "_auth_user_id" not in client.session


# Rate limiting -------------------------------------------------------------------------------------


def assert_locked(response, message):
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert message in html
    assert reverse("password_reset") in html


def test_one_account_is_locked_after_the_limit_whatever_the_address(client, ann, settings):
    limit = settings.AXES_FAILURE_LIMIT
    spellings = ["ann@example.test", "ANN@example.test", "Ann@Example.Test"]
    for n in range(limit - 1):
        response = attempt(client, spellings[n % 3], "wrong-password", ip=f"203.0.113.{n + 1}")
        assert response.status_code == 200, n
    assert not events(audit_actions.AUTH_LOCKED_OUT)

    last = attempt(client, "ann@example.test", "wrong-password", ip="203.0.113.99")

    message = auth_audit.LOCKED_ACCOUNT_MESSAGE.format(limit=limit, minutes=15)
    assert_locked(last, message)
    (locked,) = events(audit_actions.AUTH_LOCKED_OUT)
    assert locked.detail == {"scope": [auth_audit.SCOPE_ACCOUNT]}
    assert (locked.target_id, locked.workspace_id, locked.ip_address) == (str(ann.pk), None, "203.0.113.99")
    assert len(events(audit_actions.AUTH_LOGIN_FAILED)) == limit

    # Even the right password, from a fresh address, is refused while locked; no second lock event.
    refused = attempt(client, "ann@example.test", PASSWORD, ip="203.0.113.200")
    assert_locked(refused, message)
    assert "_auth_user_id" not in client.session
    assert len(events(audit_actions.AUTH_LOCKED_OUT)) == 1
    failures = events(audit_actions.AUTH_LOGIN_FAILED)
    assert len(failures) == limit + 1
    assert failures[0].detail == {"refused_while_locked": True}
    assert not events(audit_actions.AUTH_LOGIN)

    # Other accounts are not affected, from the same addresses.
    other = UserFactory(email="bob@example.test")
    assert attempt(client, other.email, PASSWORD, ip="203.0.113.99").status_code == 302


def test_one_address_is_locked_after_the_limit_whatever_the_account(client, db, settings):
    limit = settings.AXES_FAILURE_LIMIT
    victim = UserFactory(email="victim@example.test")
    for n in range(limit - 1):
        response = attempt(client, f"guess{n}@example.test", "wrong-password", ip="198.51.100.50")
        assert response.status_code == 200, n

    last = attempt(client, "guess-last@example.test", "wrong-password", ip="198.51.100.50")

    message = auth_audit.LOCKED_ADDRESS_MESSAGE.format(limit=limit, minutes=15)
    assert_locked(last, message)
    (locked,) = events(audit_actions.AUTH_LOCKED_OUT)
    assert locked.detail == {"scope": [auth_audit.SCOPE_ADDRESS]}
    assert (locked.target_id, locked.ip_address) == ("", "198.51.100.50")
    assert "guess" not in json.dumps(list(AuditEvent.objects.values()), default=str)

    # A real account from the locked address is refused; from another address it signs in.
    assert_locked(attempt(client, victim.email, PASSWORD, ip="198.51.100.50"), message)
    assert attempt(client, victim.email, PASSWORD, ip="198.51.100.51").status_code == 302
    assert len(events(audit_actions.AUTH_LOCKED_OUT)) == 1


def test_the_lockout_page_follows_the_configured_limit(client, ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    attempt(client, ann.email, "wrong-password", ip="192.0.2.1")
    response = attempt(client, ann.email, "wrong-password", ip="192.0.2.2")
    assert_locked(response, auth_audit.LOCKED_ACCOUNT_MESSAGE.format(limit=2, minutes=15))


def test_when_both_limits_are_hit_the_page_says_both(client, ann, settings):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert attempt(client, ann.email, "wrong-password", ip="192.0.2.77").status_code == 200

    response = attempt(client, ann.email, "wrong-password", ip="192.0.2.77")

    assert_locked(response, auth_audit.LOCKED_BOTH_MESSAGE.format(limit=limit, minutes=15))
    (locked,) = events(audit_actions.AUTH_LOCKED_OUT)
    assert locked.detail == {"scope": [auth_audit.SCOPE_ACCOUNT, auth_audit.SCOPE_ADDRESS]}
