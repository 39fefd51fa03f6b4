"""One client address for everything (PROXY_COUNT honoured by the audit log, rate limits and
django-axes alike), and a request log that does not write full client addresses by default."""

import io
import logging

import pytest
from axes.models import AccessAttempt
from daphne.management.commands.runserver import Command as RunserverCommand
from django.conf import settings as django_settings
from django.urls import reverse

from helpdesk.client_ip import ClientAddressFilter, log_address
from privacy.audit.models import AuditEvent
from tests.factories import UserFactory

FORGED, CLIENT, PROXY = "192.0.2.66", "203.0.113.77", "10.0.0.5"


@pytest.mark.django_db
@pytest.mark.parametrize(("proxies", "expected"), [(0, PROXY), (1, CLIENT)])
def test_a_failed_sign_in_records_the_same_address_in_the_lockout_log_and_the_audit_log(
    client, settings, proxies, expected
):
    settings.PROXY_COUNT = proxies
    user = UserFactory(email="ip@example.test")
    client.post(
        reverse("login"),
        {"username": user.email, "password": "wrong"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{FORGED}, {CLIENT}",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [expected]
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.ip_address == expected


def test_the_request_log_writes_a_truncated_address_by_default(settings):
    settings.LOG_CLIENT_IP = "truncate"
    assert "client_address" in django_settings.LOGGING["handlers"]["console"]["filters"]
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ClientAddressFilter())
    logger = logging.getLogger("django.channels.server")
    logger.addHandler(handler)
    try:
        command = RunserverCommand()
        for address in ("203.0.113.77:51234", "2001:db8:abcd:12::7:51234"):
            command.log_action(
                "http",
                "complete",
                {"path": "/", "status": 200, "method": "GET", "client": address, "time_taken": 0.01},
            )
        command.log_action("websocket", "connected", {"path": "/ws/", "client": ["203.0.113.77", 51234]})
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "203.0.113.77" not in text and "2001:db8:abcd:12::7" not in text
    assert text.count("203.0.113.0/24") == 2 and "2001:db8:abcd::/48" in text


def test_the_other_modes(settings):
    assert log_address("203.0.113.77:1", "full") == "203.0.113.77:1"
    assert log_address("203.0.113.77:1", "none") == "-"
    hashed = log_address("203.0.113.77:1", "hash")
    assert hashed.startswith("ip-") and "203.0.113" not in hashed
    assert hashed == log_address("203.0.113.77:2", "hash")  # the same address, the same token
    assert hashed != log_address("203.0.113.78:1", "hash")
