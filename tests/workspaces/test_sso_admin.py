"""The admins' single sign-on page, the secret at rest, and the way in from the sign-in page."""

import html

import pytest

from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.conftest import make_member
from tests.workspaces.sso_support import configure_sso, sso_settings  # noqa: F401 (fixture)
from workspaces import sso
from workspaces.models import Role
from workspaces.sso_models import WorkspaceSSO
from workspaces.sso_secrets import SecretUnreadable, decrypt_secret

pytestmark = pytest.mark.usefixtures("sso_settings")

SECRET = "s3cr3t-value-nobody-may-read-again"


def text(response) -> str:
    return html.unescape(response.content.decode())


def form(provider, **overrides):
    data = {
        "enabled": "on",
        "discovery_url": provider.issuer,
        "client_id": "helpdesk-acme",
        "client_secret": SECRET,
        "allow_jit": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


@pytest.fixture
def admin_client(client, login, admin):
    login(admin)
    return client


def test_an_admin_sets_up_single_sign_on_and_the_secret_is_never_shown_again(
    admin_client, workspace, oidc_provider, caplog
):
    page = admin_client.get("/w/acme/admin/sso/")
    assert page.status_code == 200
    assert "http://testserver/accounts/sso/acme/callback/" in text(page)

    response = admin_client.post("/w/acme/admin/sso/", form(oidc_provider), follow=True)

    assert "Single sign-on settings saved." in text(response)
    assert SECRET not in response.content.decode()
    assert "A secret is stored (encrypted); it is never shown" in text(response)
    config = WorkspaceSSO.objects.get(workspace=workspace)
    assert config.enabled and not config.allow_jit
    assert config.discovery_url == f"{oidc_provider.issuer}/.well-known/openid-configuration"
    # Encrypted at rest: the column holds a Fernet token that decrypts to the secret.
    assert SECRET not in config.client_secret_encrypted
    assert decrypt_secret(config.client_secret_encrypted) == SECRET
    event = AuditEvent.objects.get(workspace=workspace, action=actions.SSO_CONFIG_CHANGED)
    assert event.detail["changed"] == ["allow_jit", "client_id", "client_secret", "discovery_url", "enabled"]
    assert SECRET not in str(event.detail)
    assert SECRET not in caplog.text


def test_an_empty_secret_keeps_the_stored_one_and_changes_are_audited_by_name(
    admin_client, workspace, oidc_provider
):
    admin_client.post("/w/acme/admin/sso/", form(oidc_provider))
    stored = WorkspaceSSO.objects.get(workspace=workspace).client_secret_encrypted

    admin_client.post("/w/acme/admin/sso/", form(oidc_provider, client_secret="", allow_jit="on"))

    config = WorkspaceSSO.objects.get(workspace=workspace)
    assert config.client_secret_encrypted == stored and config.allow_jit
    last = AuditEvent.objects.filter(action=actions.SSO_CONFIG_CHANGED).order_by("-seq").first()
    assert last.detail == {"changed": ["allow_jit"], "enabled": True, "allow_jit": True}


def test_saving_without_a_secret_the_first_time_is_refused(admin_client, workspace, oidc_provider):
    response = admin_client.post("/w/acme/admin/sso/", form(oidc_provider, client_secret=""))
    assert response.status_code == 200
    assert str(sso.SECRET_REQUIRED) in text(response)
    assert not WorkspaceSSO.objects.exists()


def test_an_address_that_is_no_provider_is_refused_with_a_clear_message(
    admin_client, workspace, oidc_provider
):
    response = admin_client.post(
        "/w/acme/admin/sso/", form(oidc_provider, discovery_url=f"{oidc_provider.base_url}/nothing-here")
    )
    assert "Could not read the provider's discovery document" in text(response)
    assert not WorkspaceSSO.objects.exists()
    assert not AuditEvent.objects.filter(action=actions.SSO_CONFIG_CHANGED).exists()
    assert SECRET not in response.content.decode()


def test_plain_http_providers_are_refused_unless_allowed(admin_client, workspace, oidc_provider, settings):
    settings.SSO_ALLOW_HTTP = False
    response = admin_client.post("/w/acme/admin/sso/", form(oidc_provider))
    assert sso.URL_SCHEME in text(response)
    assert not WorkspaceSSO.objects.exists()


def test_a_changed_key_makes_the_stored_secret_unreadable_not_wrong(workspace, oidc_provider, settings):
    configure_sso(workspace, oidc_provider)
    config = WorkspaceSSO.objects.get(workspace=workspace)
    settings.SSO_SECRET_KEY = "another-key-entirely"
    with pytest.raises(SecretUnreadable):
        decrypt_secret(config.client_secret_encrypted)


@pytest.mark.parametrize("role", [Role.AGENT, Role.REQUESTER])
def test_only_admins_reach_the_page(client, login, workspace, role):
    login(make_member(workspace, role))
    assert client.get("/w/acme/admin/sso/").status_code == 404
    assert client.post("/w/acme/admin/sso/", {"client_id": "x"}).status_code == 404
    assert not WorkspaceSSO.objects.exists()


def test_the_page_of_another_workspace_is_404(admin_client, other_workspace):
    assert admin_client.get("/w/globex/admin/sso/").status_code == 404
    assert admin_client.post("/w/globex/admin/sso/", {"client_id": "x"}).status_code == 404
    assert not WorkspaceSSO.objects.exists()


def test_the_admin_tabs_link_the_page(admin_client):
    page = admin_client.get("/w/acme/admin/members/")
    assert 'href="/w/acme/admin/sso/"' in page.content.decode()


# The way in -----------------------------------------------------------------------------------


def test_the_sign_in_page_offers_single_sign_on(client):
    page = client.get("/accounts/login/")
    assert 'href="/accounts/sso/"' in page.content.decode()
    assert "Sign in with single sign-on" in text(page)


def test_the_workspace_address_leads_to_its_single_sign_on(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)

    response = client.get("/accounts/sso/", {"workspace": "acme", "next": "/w/acme/tickets/"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/sso/acme/login/?next=%2Fw%2Facme%2Ftickets%2F"
    # A whole pasted link works too.
    response = client.get("/accounts/sso/", {"workspace": "https://help.example.test/w/Acme/tickets/7/"})
    assert response["Location"] == "/accounts/sso/acme/login/"


@pytest.mark.parametrize("slug", ["globex", "nowhere", "Not a slug!"])
def test_an_address_without_single_sign_on_gets_one_clear_answer(client, workspace, other_workspace, slug):
    response = client.get("/accounts/sso/", {"workspace": slug})
    assert response.status_code == 200
    body = text(response)
    assert "Sign in with single sign-on" in body
    assert "Workspace address" in body
    # The same words whether the workspace exists or not, or the address cannot be one.
    assert "No workspace with this address uses single sign-on" in body
