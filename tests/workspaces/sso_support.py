"""Driving single sign-on against the real test provider (tests/oidc_provider).

The helpdesk side is Django's test client (``http://testserver``); the provider side is a
cookie-keeping ``httpx`` client that does what a browser does there: sign in on the provider's
login form, consent if asked, and hand back the redirect to our callback.
"""

import secrets
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from workspaces import sso

TEST_SERVER = "http://testserver"


@pytest.fixture
def sso_settings(settings):
    # The test provider speaks plain http on loopback.
    settings.SSO_ALLOW_HTTP = True
    return settings


def configure_sso(
    workspace, provider, *, base_url=TEST_SERVER, allow_jit=False, require_consent=False, mode=""
):
    client = provider.add_client(
        redirect_uris=[f"{base_url}/accounts/sso/{workspace.slug}/callback/"],
        require_consent=require_consent,
        mode=mode,
    )
    sso.sso_config_save(
        workspace=workspace,
        discovery_url=provider.issuer,
        client_id=client.client_id,
        client_secret=client.client_secret,
        enabled=True,
        allow_jit=allow_jit,
        actor=None,
    )
    return client


def provider_person(provider, email, *, verified=True):
    """An account at the provider; returns (username, password)."""
    username = f"idp-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(12)
    provider.add_user(username=username, password=password, email=email, email_verified=verified)
    return username, password


class _Forms(HTMLParser):
    """The inputs of the page's forms, in order: enough for the provider's two plain forms."""

    def __init__(self):
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            self.inputs.append(dict(attrs))


def _inputs(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.inputs


class ProviderBrowser:
    """One person's browser at the provider (its own cookies)."""

    def __init__(self, username: str, password: str):
        self.username = username
        self.password = password
        self.http = httpx.Client(timeout=10)

    def close(self):
        self.http.close()

    def authorize(self, authorize_url: str) -> str:
        """Follow the provider from its authorization URL to the redirect back to us; returns
        that redirect (our callback with ``code`` and ``state``)."""
        url = authorize_url
        for _ in range(10):
            if url.startswith(TEST_SERVER) or not url.startswith("http://127.0.0.1"):
                return url
            response = self.http.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            response.raise_for_status()
            url = self._submit(url, response.text)
        raise AssertionError("The provider never redirected back.")

    def _submit(self, url: str, html: str) -> str:
        inputs = _inputs(html)
        names = {field.get("name") for field in inputs}
        if "password" in names:  # the provider's sign-in form
            data = {f["name"]: f.get("value", "") for f in inputs if f.get("type") == "hidden"}
            data.update(username=self.username, password=self.password)
            response = self.http.post(url, data=data)
        else:  # the consent form: hidden request parameters, then "Authorize"
            data = {f["name"]: f.get("value", "") for f in inputs if f.get("type") == "hidden"}
            data["allow"] = "Authorize"
            action = urljoin(url, urlsplit(url).path)
            response = self.http.post(action, data=data)
        assert response.is_redirect, response.text[:500]
        return urljoin(url, response.headers["location"])


def local(url: str) -> str:
    """Our callback URL as the test client wants it: path and query."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def sso_sign_in(client, workspace, provider, username, password, *, next_url=""):
    """Start at /accounts/sso/<slug>/login/, pass the provider, deliver the callback; returns the
    callback's response."""
    start = client.get(f"/accounts/sso/{workspace.slug}/login/", {"next": next_url} if next_url else {})
    assert start.status_code == 302, start.status_code
    browser = ProviderBrowser(username, password)
    try:
        callback = browser.authorize(start["Location"])
    finally:
        browser.close()
    return client.get(local(callback))
