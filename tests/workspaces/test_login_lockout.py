"""Sign-in lockout (django-axes): one account from one network address after AXES_FAILURE_LIMIT
failures; one network address for every account only after LOGIN_IP_FAILURE_LIMIT."""

import pytest
from django.urls import reverse

from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from workspaces import auth_audit

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
X = "203.0.113.10"
Y = "198.51.100.20"


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def attempt(client, email, password, ip):
    return client.post(LOGIN_URL, {"username": email, "password": password}, REMOTE_ADDR=ip)


def assert_locked(response, message):
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-ins" in html
    assert message in html
    assert reverse("password_reset") in html


def signed_in(client, email, ip) -> bool:
    client.logout()
    response = attempt(client, email, PASSWORD, ip)
    return response.status_code == 302 and "_auth_user_id" in client.session


@pytest.fixture
def ann(db):
    return UserFactory(email="ann@example.test")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.test")


def test_typos_lock_one_account_from_one_address_and_nothing_else(client, ann, bob, settings):
    limit = settings.AXES_FAILURE_LIMIT
    spellings = ["ann@example.test", "ANN@example.test", "Ann@Example.Test"]
    for n in range(limit - 1):
        assert attempt(client, spellings[n % 3], "wrong-password", X).status_code == 200, n
    assert not events(audit_actions.AUTH_LOCKED_OUT)

    last = attempt(client, ann.email, "wrong-password", X)

    message = auth_audit.LOCKED_ACCOUNT_MESSAGE.format(limit=limit, minutes=15)
    assert_locked(last, message)
    (locked,) = events(audit_actions.AUTH_LOCKED_OUT)
    assert locked.detail == {"scope": [auth_audit.SCOPE_ACCOUNT]}
    assert (locked.target_id, locked.ip_address) == (str(ann.pk), X)

    # Ann's right password from X is refused while locked (one more failure, flagged; no new lock).
    assert_locked(attempt(client, ann.email, PASSWORD, X), message)
    assert "_auth_user_id" not in client.session
    assert events(audit_actions.AUTH_LOGIN_FAILED)[0].detail == {"refused_while_locked": True}
    assert len(events(audit_actions.AUTH_LOCKED_OUT)) == 1

    # Bob signs in from the same address; Ann signs in from another one.
    assert signed_in(client, bob.email, X)
    assert signed_in(client, ann.email, Y)


def test_an_address_is_locked_for_every_account_only_at_its_own_higher_limit(client, ann, settings):
    ip_limit = settings.LOGIN_IP_FAILURE_LIMIT
    assert ip_limit > settings.AXES_FAILURE_LIMIT
    # Guesses spread over many addresses: no account-and-address pair reaches its limit.
    for n in range(ip_limit - 1):
        assert attempt(client, f"guess{n % 40}@example.test", "wrong-password", X).status_code == 200, n
    assert signed_in(client, ann.email, X)
    client.logout()

    last = attempt(client, "guess-last@example.test", "wrong-password", X)

    message = auth_audit.LOCKED_ADDRESS_MESSAGE.format(ip_limit=ip_limit, minutes=15)
    assert_locked(last, message)
    (locked,) = events(audit_actions.AUTH_LOCKED_OUT)
    assert locked.detail == {"scope": [auth_audit.SCOPE_ADDRESS]}
    assert (locked.target_id, locked.ip_address) == ("", X)
    # Every account is refused from X; from Y Ann signs in.
    assert_locked(attempt(client, ann.email, PASSWORD, X), message)
    assert signed_in(client, ann.email, Y)
    assert len(events(audit_actions.AUTH_LOCKED_OUT)) == 1


def test_signing_in_to_ones_own_account_does_not_reset_the_addresss_count(client, ann, bob, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    for n in range(7):
        attempt(client, f"guess{n}@example.test", "wrong-password", X)
    # A guesser with an account of their own signs in between guesses: the count stays.
    assert signed_in(client, bob.email, X)
    client.logout()

    assert_locked(
        attempt(client, "guess-more@example.test", "wrong-password", X),
        auth_audit.LOCKED_ADDRESS_MESSAGE.format(ip_limit=8, minutes=15),
    )


def test_the_lockout_page_follows_the_configured_limit(client, ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    attempt(client, ann.email, "wrong-password", X)
    response = attempt(client, ann.email, "wrong-password", X)
    assert_locked(response, auth_audit.LOCKED_ACCOUNT_MESSAGE.format(limit=2, minutes=15))


def test_when_both_limits_are_hit_the_page_says_both(client, ann, settings):
    limit = settings.AXES_FAILURE_LIMIT
    settings.LOGIN_IP_FAILURE_LIMIT = limit
    for _ in range(limit - 1):
        assert attempt(client, ann.email, "wrong-password", X).status_code == 200

    response = attempt(client, ann.email, "wrong-password", X)

    assert_locked(response, auth_audit.LOCKED_BOTH_MESSAGE.format(limit=limit, ip_limit=limit, minutes=15))
    (locked,) = events(audit_actions.AUTH_LOCKED_OUT)
    assert locked.detail == {"scope": [auth_audit.SCOPE_ACCOUNT, auth_audit.SCOPE_ADDRESS]}
