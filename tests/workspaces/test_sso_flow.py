"""Single sign-on against a real OpenID Connect provider (tests/oidc_provider, started once per
run): discovery, the provider's login form, the token endpoint, RS256-signed ID tokens checked
against its JWKS. Who gets in, who is refused and why, and what the audit log says."""

import html
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.conftest import make_member
from tests.oidc_provider.server import free_port
from tests.workspaces.sso_support import (
    ProviderBrowser,
    configure_sso,
    local,
    provider_person,
    sso_settings,  # noqa: F401 (fixture)
    sso_sign_in,
)
from tests.workspaces.two_factor_support import VERIFY_URL, code_for, give_totp
from workspaces import sso
from workspaces.models import Membership, Role, User
from workspaces.sso_models import WorkspaceSSO

pytestmark = pytest.mark.usefixtures("sso_settings")


def text(response) -> str:
    return html.unescape(response.content.decode())


def signed_in_as(client):
    """Who the test client's session belongs to, asked the way a page does."""
    response = client.get("/account/")
    if response.status_code != 200:
        return None
    return response.wsgi_request.user


def refusals(workspace):
    return list(
        AuditEvent.objects.filter(workspace=workspace, action=actions.SSO_REFUSED).values_list(
            "detail__reason", flat=True
        )
    )


def test_an_existing_member_is_signed_in_by_verified_email(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    member = make_member(workspace, Role.REQUESTER, email="ann@acme.test")
    username, password = provider_person(oidc_provider, "Ann@Acme.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 302
    assert response["Location"] == "/w/acme/"
    assert signed_in_as(client) == member.user
    assert client.get("/w/acme/tickets/").status_code == 200
    event = AuditEvent.objects.get(workspace=workspace, action=actions.SSO_SIGNED_IN)
    assert event.actor_id == member.user.pk
    assert AuditEvent.objects.filter(action=actions.AUTH_LOGIN, actor=member.user).count() == 1
    # No second account, no second membership.
    assert User.objects.filter(email__iexact="ann@acme.test").count() == 1


def test_next_inside_the_workspace_is_kept_and_one_outside_dropped(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    make_member(workspace, Role.REQUESTER, email="ann@acme.test")
    username, password = provider_person(oidc_provider, "ann@acme.test")

    response = sso_sign_in(
        client, workspace, oidc_provider, username, password, next_url="/w/acme/tickets/new/"
    )
    assert response["Location"] == "/w/acme/tickets/new/"

    client.logout()
    response = sso_sign_in(
        client, workspace, oidc_provider, username, password, next_url="https://evil.test/"
    )
    assert response["Location"] == "/w/acme/"


def test_an_address_the_provider_did_not_verify_is_refused(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider, allow_jit=True)
    member = make_member(workspace, Role.ADMIN, email="boss@acme.test")
    username, password = provider_person(oidc_provider, "boss@acme.test", verified=False)

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 403
    assert sso.REFUSED_UNVERIFIED.format(email="boss@acme.test") in text(response)
    assert signed_in_as(client) is None
    assert refusals(workspace) == [sso.REASON_UNVERIFIED]
    event = AuditEvent.objects.get(workspace=workspace, action=actions.SSO_REFUSED)
    assert event.target_id == str(member.user.pk)
    assert "boss@acme.test" not in str(event.detail)


def test_an_unverified_address_creates_no_account_even_with_jit(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider, allow_jit=True)
    username, password = provider_person(oidc_provider, "new@acme.test", verified=False)

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 403
    assert not User.objects.filter(email="new@acme.test").exists()


def test_jit_creates_a_requester_when_the_workspace_allows_it(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider, allow_jit=True)
    username, password = provider_person(oidc_provider, "New.Person@Acme.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 302 and response["Location"] == "/w/acme/"
    user = User.objects.get(email="new.person@acme.test")
    assert not user.has_usable_password()
    assert user.email_confirmed_at is not None
    assert list(Membership.objects.filter(user=user).values_list("workspace__slug", "role")) == [
        ("acme", Role.REQUESTER)
    ]
    page = client.get(response["Location"], follow=True)
    assert "Your account was created from your single sign-on" in text(page)
    assert signed_in_as(client) == user
    created = AuditEvent.objects.get(workspace=workspace, action=actions.SSO_ACCOUNT_CREATED)
    assert created.target_id == str(user.pk)
    assert AuditEvent.objects.filter(
        workspace=workspace, action=actions.MEMBER_ADDED, target_id=str(user.pk)
    ).exists()


def test_no_account_is_refused_when_jit_is_off(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider, allow_jit=False)
    username, password = provider_person(oidc_provider, "stranger@acme.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 403
    assert sso.REFUSED_NOT_MEMBER.format(email="stranger@acme.test", workspace="Acme") in text(response)
    assert not User.objects.filter(email="stranger@acme.test").exists()
    assert signed_in_as(client) is None
    assert refusals(workspace) == [sso.REASON_NOT_MEMBER]


def _code_and_state(client, workspace, provider, username, password):
    start = client.get(f"/accounts/sso/{workspace.slug}/login/")
    browser = ProviderBrowser(username, password)
    try:
        callback = browser.authorize(start["Location"])
    finally:
        browser.close()
    query = parse_qs(urlsplit(callback).query)
    return callback, query["code"][0], query["state"][0]


def test_a_state_that_does_not_match_is_refused(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    make_member(workspace, Role.REQUESTER, email="ann@acme.test")
    username, password = provider_person(oidc_provider, "ann@acme.test")
    _callback, code, _state = _code_and_state(client, workspace, oidc_provider, username, password)

    response = client.get(
        "/accounts/sso/acme/callback/?" + urlencode({"code": code, "state": "forged-state"})
    )

    assert response.status_code == 400
    assert str(sso.REFUSED_STATE) in text(response)
    assert signed_in_as(client) is None
    assert refusals(workspace) == [sso.REASON_STATE]


def test_a_callback_opened_in_another_browser_is_refused(client, workspace, oidc_provider):
    """Login CSRF: an attacker's own code and state, planted in the victim's browser, do nothing."""
    configure_sso(workspace, oidc_provider)
    make_member(workspace, Role.REQUESTER, email="mallory@acme.test")
    username, password = provider_person(oidc_provider, "mallory@acme.test")
    callback, _code, _state = _code_and_state(client, workspace, oidc_provider, username, password)

    victim = Client()
    response = victim.get(local(callback))

    assert response.status_code == 400
    assert signed_in_as(victim) is None


def test_a_callback_cannot_be_replayed(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    member = make_member(workspace, Role.REQUESTER, email="ann@acme.test")
    username, password = provider_person(oidc_provider, "ann@acme.test")
    callback, _code, _state = _code_and_state(client, workspace, oidc_provider, username, password)
    assert client.get(local(callback)).status_code == 302
    assert signed_in_as(client) == member.user

    client.logout()
    assert client.get(local(callback)).status_code == 400
    assert signed_in_as(client) is None


def test_the_provider_of_workspace_a_cannot_sign_into_workspace_b(
    client, workspace, other_workspace, oidc_provider
):
    configure_sso(workspace, oidc_provider)
    configure_sso(other_workspace, oidc_provider)
    member_b = make_member(other_workspace, Role.ADMIN, email="bob@globex.test")
    username, password = provider_person(oidc_provider, "bob@globex.test")

    # A's answer delivered to B's callback: B started no flow with that state.
    _callback, code_a, state_a = _code_and_state(client, workspace, oidc_provider, username, password)
    response = client.get("/accounts/sso/globex/callback/?" + urlencode({"code": code_a, "state": state_a}))
    assert response.status_code == 400
    assert signed_in_as(client) is None

    # A's code with B's own state: B's client cannot redeem a code issued to A's client.
    _callback, _code_b, state_b = _code_and_state(client, other_workspace, oidc_provider, username, password)
    _callback, code_a, _state_a = _code_and_state(client, workspace, oidc_provider, username, password)
    response = client.get("/accounts/sso/globex/callback/?" + urlencode({"code": code_a, "state": state_b}))
    assert response.status_code == 403
    assert signed_in_as(client) is None

    # A's provider vouching for B's member in A's own callback: not a member of A.
    response = sso_sign_in(client, workspace, oidc_provider, username, password)
    assert response.status_code == 403
    assert sso.REFUSED_NOT_MEMBER.format(email="bob@globex.test", workspace="Acme") in text(response)
    assert signed_in_as(client) is None
    assert not Membership.objects.filter(user=member_b.user, workspace=workspace).exists()
    assert sso.REASON_NOT_MEMBER in refusals(workspace)
    # Acme's log does not learn that the address has an account elsewhere.
    refused = AuditEvent.objects.get(workspace=workspace, action=actions.SSO_REFUSED)
    assert refused.target_id == "" and refused.detail == {"reason": sso.REASON_NOT_MEMBER}
    assert set(refusals(other_workspace)) == {sso.REASON_STATE, sso.REASON_CODE_REJECTED}


def test_a_member_of_other_workspaces_too_signs_in_with_a_password(
    client, workspace, other_workspace, oidc_provider
):
    """An admin of A could run a provider of their own that vouches for anyone's address: it must
    not open the person's other workspaces."""
    configure_sso(workspace, oidc_provider, allow_jit=True)
    member = make_member(other_workspace, Role.ADMIN, email="carol@globex.test")
    Membership.objects.create(workspace=workspace, user=member.user, role=Role.REQUESTER)
    username, password = provider_person(oidc_provider, "carol@globex.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 403
    assert sso.REFUSED_OTHER_WORKSPACES.format(email="carol@globex.test") in text(response)
    assert signed_in_as(client) is None


def test_site_staff_are_refused(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    make_member(workspace, Role.ADMIN, email="root@acme.test", is_staff=True)
    username, password = provider_person(oidc_provider, "root@acme.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 403
    assert str(sso.REFUSED_SITE_STAFF) in text(response)


def test_declining_at_the_provider_is_refused_clearly(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    start = client.get("/accounts/sso/acme/login/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]

    response = client.get(
        "/accounts/sso/acme/callback/?" + urlencode({"error": "access_denied", "state": state})
    )

    assert response.status_code == 403
    assert str(sso.REFUSED_PROVIDER_ERROR) in text(response)


def test_the_authorization_request_uses_pkce_state_and_nonce(client, workspace, oidc_provider):
    client_registration = configure_sso(workspace, oidc_provider)

    start = client.get("/accounts/sso/acme/login/")

    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{oidc_provider.issuer}/authorize"
    query = {key: values[0] for key, values in parse_qs(location.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == client_registration.client_id
    assert query["redirect_uri"] == "http://testserver/accounts/sso/acme/callback/"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) >= 43
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert client_registration.client_secret not in start["Location"]


@pytest.mark.parametrize("path", ["login/", "callback/?code=x&state=y"])
def test_a_workspace_without_single_sign_on_answers_404(
    client, workspace, other_workspace, oidc_provider, path
):
    configure_sso(workspace, oidc_provider)
    assert client.get(f"/accounts/sso/globex/{path}").status_code == 404
    assert client.get(f"/accounts/sso/nowhere/{path}").status_code == 404
    # Switched off: the same 404.
    config = sso.sso_config_of(workspace=workspace)
    sso.sso_config_save(
        workspace=workspace,
        discovery_url=config.discovery_url,
        client_id=config.client_id,
        client_secret="",
        enabled=False,
        allow_jit=False,
        actor=None,
    )
    assert client.get(f"/accounts/sso/acme/{path}").status_code == 404


@pytest.mark.parametrize("mode", ["wrong-iss", "wrong-aud", "expired", "wrong-nonce", "stray-key"])
def test_an_id_token_that_fails_validation_signs_nobody_in(client, workspace, oidc_provider, mode):
    """The provider answers through its real token endpoint but with an ID token of another
    issuer, another audience, past its expiry, with a nonce we never sent, or signed by a key its
    JWKS does not publish."""
    configure_sso(workspace, oidc_provider, mode=mode)
    make_member(workspace, Role.REQUESTER, email="ann@acme.test")
    username, password = provider_person(oidc_provider, "ann@acme.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 403
    assert str(sso.REFUSED_INVALID_TOKEN) in text(response)
    assert signed_in_as(client) is None
    assert refusals(workspace) == [sso.REASON_INVALID_TOKEN]


def test_the_same_provider_settings_with_a_good_client_still_sign_in(client, workspace, oidc_provider):
    """The control for the test above: the misbehaving modes are what made the difference."""
    configure_sso(workspace, oidc_provider, mode="")
    member = make_member(workspace, Role.REQUESTER, email="ann@acme.test")
    username, password = provider_person(oidc_provider, "ann@acme.test")

    assert sso_sign_in(client, workspace, oidc_provider, username, password).status_code == 302
    assert signed_in_as(client) == member.user


@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_of_one_newcomer_at_once_make_one_account(workspace, oidc_provider):
    """The same newcomer finishes single sign-on in two browsers at the same moment: one account,
    one membership, one ``sso.account_created``, and both browsers signed in as that account."""
    configure_sso(workspace, oidc_provider, allow_jit=True)
    username, password = provider_person(oidc_provider, "twice@acme.test")
    browsers = [Client(), Client()]
    callbacks = []
    for browser in browsers:
        callback, _code, _state = _code_and_state(browser, workspace, oidc_provider, username, password)
        callbacks.append(local(callback))
    responses = [None, None]

    def finish(index):
        responses[index] = browsers[index].get(callbacks[index])

    run_threads(2, finish)

    assert [response.status_code for response in responses] == [302, 302], refusals(workspace)
    user = User.objects.get(email="twice@acme.test")
    assert Membership.objects.filter(user=user).count() == 1
    assert AuditEvent.objects.filter(action=actions.SSO_ACCOUNT_CREATED).count() == 1
    assert AuditEvent.objects.filter(action=actions.SSO_SIGNED_IN, actor=user).count() == 2
    assert [signed_in_as(browser) for browser in browsers] == [user, user]


def test_a_provider_that_is_down_gets_a_clear_answer_not_an_error(client, workspace, oidc_provider):
    configure_sso(workspace, oidc_provider)
    WorkspaceSSO.objects.filter(workspace=workspace).update(
        discovery_url=f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    )

    response = client.get("/accounts/sso/acme/login/")

    assert response.status_code == 403
    assert str(sso.REFUSED_UNREACHABLE) in text(response)
    assert refusals(workspace) == [sso.REASON_UNREACHABLE]


def test_a_secret_stored_under_an_old_key_asks_for_the_secret_again(
    client, workspace, oidc_provider, settings
):
    configure_sso(workspace, oidc_provider)
    settings.SSO_SECRET_KEY = "the-key-was-changed-since"

    response = client.get("/accounts/sso/acme/login/")

    assert response.status_code == 403
    assert str(sso.REFUSED_NOT_CONFIGURED) in text(response)


def test_single_sign_on_does_not_skip_a_members_second_factor(client, workspace, oidc_provider):
    """The provider vouches for the address, not for the second factor the person set up here."""
    configure_sso(workspace, oidc_provider)
    member = make_member(workspace, Role.AGENT, email="tom@acme.test")
    device, _codes = give_totp(member.user)
    username, password = provider_person(oidc_provider, "tom@acme.test")

    response = sso_sign_in(client, workspace, oidc_provider, username, password)

    assert response.status_code == 302
    blocked = client.get("/w/acme/tickets/")
    assert blocked.status_code == 302 and blocked["Location"].startswith(VERIFY_URL + "?next=")
    assert signed_in_as(client) is None  # the account page too sends to the second step
    passed = client.post(f"{VERIFY_URL}?next=/w/acme/tickets/", {"code": code_for(device)})
    assert passed.status_code == 302 and passed["Location"] == "/w/acme/tickets/"
    assert client.get("/w/acme/tickets/").status_code == 200
    assert signed_in_as(client) == member.user
