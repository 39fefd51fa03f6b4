"""The Content-Security-Policy lets pages open websockets to their own host only."""

import pytest
from django.test import RequestFactory

from helpdesk.middleware import CONTENT_SECURITY_POLICY, connect_src


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    parts = [part.strip().split(" ", 1) for part in policy.split(";")]
    return {name: (rest[0] if rest else "") for name, *rest in parts}


@pytest.fixture
def hosts(settings):
    settings.ALLOWED_HOSTS = ["helpdesk.example.com", "testserver"]


@pytest.mark.django_db
def test_plain_http_page_may_connect_to_its_own_ws_and_wss_origin_only(client, hosts):
    response = client.get("/accounts/login/", HTTP_HOST="helpdesk.example.com")

    assert response.status_code == 200
    assert directives(response)["connect-src"] == (
        "'self' ws://helpdesk.example.com wss://helpdesk.example.com"
    )


@pytest.mark.django_db
def test_https_page_may_connect_to_its_own_wss_origin_only(client, hosts, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = client.get(
        "/accounts/login/", HTTP_HOST="helpdesk.example.com:8443", HTTP_X_FORWARDED_PROTO="https"
    )

    assert directives(response)["connect-src"] == "'self' wss://helpdesk.example.com:8443"


@pytest.mark.django_db
def test_no_scheme_wide_websocket_source_is_left(client, hosts):
    response = client.get("/accounts/login/")
    sources = directives(response)["connect-src"].split()

    assert "ws:" not in sources and "wss:" not in sources
    assert sources == ["'self'", "ws://testserver", "wss://testserver"]
    # The rest of the policy is unchanged.
    assert directives(response)["script-src"] == "'self'"
    assert directives(response)["frame-ancestors"] == "'none'"


def test_a_host_django_refuses_gets_self_only(settings):
    settings.ALLOWED_HOSTS = ["helpdesk.example.com"]
    request = RequestFactory().get("/", HTTP_HOST="evil.example.net")

    assert connect_src(request) == "connect-src 'self'"


@pytest.mark.django_db
def test_a_refused_host_still_gets_a_policy_without_an_error(client, hosts):
    response = client.get("/accounts/login/", HTTP_HOST="evil.example.net")

    assert response.status_code == 400
    assert directives(response)["connect-src"] == "'self'"


def test_the_static_policy_for_pages_that_set_their_own_allows_no_websocket_host():
    assert "connect-src 'self';" in CONTENT_SECURITY_POLICY
    assert "ws:" not in CONTENT_SECURITY_POLICY and "wss:" not in CONTENT_SECURITY_POLICY
