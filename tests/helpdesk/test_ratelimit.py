"""helpdesk/ratelimit.py and the emails and exports it guards: the request after the limit sends
nothing, says when to try again (429 and Retry-After) and is audited once."""

import importlib
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from helpdesk import ratelimit
from privacy.account.models import DataExport
from privacy.account.signup import policies_current
from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.factories import PASSWORD, UserFactory

IP = "192.0.2.44"


def refusals():
    return list(AuditEvent.objects.filter(action=audit_actions.RATE_LIMIT_REFUSED))


@pytest.fixture
def small_limits(settings, ratelimit_clock):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "password_reset": {"address": (2, 3600), "ip": (4, 3600)},
        "signup": {"address": (2, 3600), "ip": (4, 3600)},
        "email_change": {"address": (2, 3600), "account": (3, 3600), "ip": (20, 3600)},
        "export": {"account": (2, 86400), "ip": (20, 3600)},
        "test": {"address": (2, 600), "ip": (3, 600)},
    }


# The limiter ---------------------------------------------------------------------------------------


def test_the_attempt_after_the_limit_is_refused_with_the_time_left(small_limits, ratelimit_clock):
    start = ratelimit_clock.now  # a window just began
    assert ratelimit.ratelimit_hit("test", address="a@example.test", ip=IP) is None
    assert ratelimit.ratelimit_hit("test", address="A@Example.test ", ip=IP) is None
    refusal = ratelimit.ratelimit_hit("test", address="a@example.test", ip=IP)
    assert refusal == ratelimit.Refusal(action="test", scope="address", retry_after=600)
    assert refusal.wait == "in 10 minutes"
    # Another address from the same network has one attempt left (refused ones were not counted).
    ratelimit_clock.now = start + 100
    assert ratelimit.ratelimit_hit("test", address="b@example.test", ip=IP) is None
    refusal = ratelimit.ratelimit_hit("test", address="c@example.test", ip=IP)
    assert (refusal.scope, refusal.retry_after) == ("ip", 500)
    # The next window starts afresh.
    ratelimit_clock.now = start + 600
    assert ratelimit.ratelimit_hit("test", address="a@example.test", ip=IP) is None


def test_racing_requests_get_exactly_the_allowed_attempts(small_limits):
    allowed = []

    def hit(index):
        if ratelimit.ratelimit_hit("test", address=f"p{index}@example.test", ip=IP) is None:
            allowed.append(index)

    run_threads(8, hit)

    assert len(allowed) == 3  # the per-network limit, whatever the interleaving


def cache_keys(settings) -> str:
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client()
        return " ".join(key.decode() for key in client.scan_iter(match=cache.make_key("*")))
    return " ".join(str(key) for key in cache._cache)


def test_the_cache_never_holds_the_address(small_limits, settings):
    ratelimit.ratelimit_hit("test", address="secret-person@example.test", ip=IP)
    keys = cache_keys(settings)
    assert "ratelimit:test:address:" in keys and "ratelimit:test:ip:" in keys
    assert "secret-person" not in keys and IP not in keys


def test_an_unreachable_cache_lets_people_through(small_limits, caplog):
    with (
        mock.patch.object(cache, "get_many", side_effect=ConnectionError("down")),
        mock.patch.object(cache, "add", side_effect=ConnectionError("down")),
    ):
        for _ in range(5):
            assert ratelimit.ratelimit_hit("test", address="a@example.test", ip=IP) is None
    assert "Rate limit store unavailable" in caplog.text
    assert "a@example.test" not in caplog.text


def test_an_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="No rate limit is configured for 'nope'"):
        ratelimit.ratelimit_hit("nope", ip=IP)


@pytest.mark.parametrize(
    "seconds,text", [(1, "in 1 minute"), (61, "in 2 minutes"), (5340, "in 89 minutes"), (7200, "in 2 hours")]
)
def test_wait_text(seconds, text):
    assert ratelimit.wait_text(seconds) == text


# What it guards ------------------------------------------------------------------------------------


def assert_refused(response, *phrases):
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 86400
    html = response.content.decode()
    assert "Try again in" in html or "try again in" in html
    for phrase in phrases:
        assert phrase in html


@pytest.mark.django_db
def test_password_reset_emails_per_address(client, small_limits, django_capture_on_commit_callbacks):
    UserFactory(email="ann@example.test")
    for spelling in ("ann@example.test", "ANN@example.test"):
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                client.post(reverse("password_reset"), {"email": spelling}, REMOTE_ADDR=IP).status_code == 302
            )
    assert len(mail.outbox) == 2

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            refused = client.post(reverse("password_reset"), {"email": "ann@example.test"}, REMOTE_ADDR=IP)
        assert_refused(refused, "Several password resets were asked for this address in the last hour")

    assert len(mail.outbox) == 2
    (event,) = refusals()  # twice refused, once written
    assert event.detail == {"action": "password_reset", "scope": "address"}
    assert (event.ip_address, event.actor_id, event.target_id) == (IP, None, "")
    assert "ann@example.test" not in str(event.detail)


@pytest.mark.django_db
def test_password_reset_answers_alike_for_unknown_addresses(client, small_limits):
    for _ in range(2):
        client.post(reverse("password_reset"), {"email": "nobody@example.test"}, REMOTE_ADDR=IP)
    refused = client.post(reverse("password_reset"), {"email": "nobody@example.test"}, REMOTE_ADDR=IP)
    assert_refused(refused, "Several password resets were asked for this address in the last hour")


@pytest.mark.django_db
def test_password_reset_emails_per_network_address(client, small_limits):
    for n in range(4):
        assert (
            client.post(
                reverse("password_reset"), {"email": f"p{n}@example.test"}, REMOTE_ADDR=IP
            ).status_code
            == 302
        )
    refused = client.post(reverse("password_reset"), {"email": "p9@example.test"}, REMOTE_ADDR=IP)
    assert_refused(refused, "Too many password resets were asked for from your network address")
    # Another network is not affected.
    assert (
        client.post(
            reverse("password_reset"), {"email": "p9@example.test"}, REMOTE_ADDR="192.0.2.45"
        ).status_code
        == 302
    )


@pytest.fixture
def policies(db):
    importlib.import_module("privacy.migrations.0003_initial_policies").publish(django_apps, None)
    return policies_current()


@pytest.mark.django_db
def test_signup_emails_per_address(client, small_limits, policies, django_capture_on_commit_callbacks):
    def sign_up(ip=IP):
        data = {
            "display_name": "Ann",
            "email": "ann@example.test",
            "password1": "ochre-window-lamp-31",
            "password2": "ochre-window-lamp-31",
            "accept_policies": "on",
            "age_confirmed": "on",
            "policies_shown": f"{policies.terms.pk},{policies.privacy.pk}",
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/accounts/signup/", data, REMOTE_ADDR=ip)

    assert sign_up().status_code == 302
    assert sign_up(ip="192.0.2.99").status_code == 302  # a second sign-up replaces the first
    assert len(mail.outbox) == 2

    refused = sign_up(ip="192.0.2.100")

    assert_refused(refused, "We already sent several emails to this address in the last hour")
    assert 'value="ann@example.test"' in refused.content.decode()  # what was typed is kept
    assert len(mail.outbox) == 2
    (event,) = refusals()
    assert event.detail == {"action": "signup", "scope": "address"}


@pytest.mark.django_db
def test_email_change_confirmations_per_address(
    client, requester, small_limits, django_capture_on_commit_callbacks
):
    client.force_login(requester.user)

    def ask(address):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/account/email/", {"email-new_email": address, "email-password": PASSWORD}, REMOTE_ADDR=IP
            )

    assert ask("new@example.test").status_code == 302
    assert ask("new@example.test").status_code == 302
    refused = ask("NEW@example.test")
    assert_refused(refused, "We already sent several emails to this address in the last hour")
    assert len(mail.outbox) == 2
    # Per account too: one more address, then any address is refused.
    assert ask("other@example.test").status_code == 302
    assert_refused(ask("third@example.test"), "You asked for many email changes in a short time")
    assert len(mail.outbox) == 3
    assert {e.detail["scope"] for e in refusals()} == {"address", "account"}
    assert all(e.actor_id == requester.user.pk for e in refusals())


@pytest.mark.django_db
def test_exports_per_account(client, requester, small_limits, django_capture_on_commit_callbacks):
    client.force_login(requester.user)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(reverse("account_export_create"), REMOTE_ADDR=IP).status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(reverse("account_export_create"), REMOTE_ADDR=IP)

    assert_refused(refused, "You asked for many exports in a short time.")
    assert DataExport.objects.filter(user=requester.user).count() == 2
    (event,) = refusals()
    assert event.detail == {"action": "export", "scope": "account"}
    assert event.actor_id == requester.user.pk
