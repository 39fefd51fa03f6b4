"""Single sign-on with a workspace's own OpenID Connect provider: its settings, and the
authorization code flow (PKCE, state, nonce) through Authlib's Django client.

The flow, and who may come in:

1. ``sso_begin`` sends the browser to the provider. Authlib keeps state, nonce and the PKCE
   verifier in the session under a key named after the workspace, so a callback can only finish a
   flow started for the same workspace in the same browser.
2. ``sso_complete`` takes the callback: Authlib checks the state, exchanges the code (with the
   PKCE verifier and the client secret) and validates the ID token: RS256 signature against the
   provider's JWKS, issuer, audience (our client id), expiry, issued-at and nonce.
3. The person is found by email only when the provider says ``email_verified``. A workspace's
   provider is trusted for that workspace only: an existing account must be a member of it and of
   no other workspace (else an admin running a provider of their own could assert the address of
   someone who works elsewhere and open that person's other workspaces), and site staff always
   use their password. With no account and ``allow_jit`` on, a requester account is created.
   "No account" and "an account that is not a member" get the same answer.

Every refusal is audited (``sso.refused`` with a reason code) and raised as ``SSORefused``
carrying the sentence the person reads. Secrets, codes and tokens are never logged.
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from joserfc.errors import JoseError

from privacy.audit import events
from workspaces.models import Membership, Role, User, Workspace
from workspaces.sso_models import WorkspaceSSO
from workspaces.sso_secrets import SecretUnreadable, decrypt_secret, encrypt_secret

logger = logging.getLogger(__name__)

DISCOVERY_SUFFIX = "/.well-known/openid-configuration"
SCOPES = "openid email profile"
NEXT_SESSION_KEY = "sso_next_{workspace_id}"
NOT_AVAILABLE = _("Not found.")
# Settings form errors.
URL_SCHEME = "Use an https:// address for the identity provider."
ENDPOINTS_SCHEME = "The provider's discovery document names endpoints that are not https:// addresses."
SECRET_REQUIRED = _("Enter the client secret the identity provider gave you.")
DISCOVERY_UNREADABLE = _(
    "Could not read the provider's discovery document at {url}. Check the issuer address; the "
    "provider must answer there with its OpenID configuration."
)
DISCOVERY_INCOMPLETE = _(
    "The provider's discovery document lacks {missing}; is this an OpenID Connect provider?"
)

# What a refused person reads.
REFUSED_PROVIDER_ERROR = _(
    "The identity provider did not sign you in (you may have declined, or the provider refused). "
    "You can try again."
)
REFUSED_STATE = _(
    "This single sign-on answer does not belong to a sign-in started in this browser for this "
    "workspace, or it was already used. Start single sign-on again."
)
REFUSED_UNREACHABLE = _("The identity provider could not be reached. Try again in a moment.")
REFUSED_INVALID_TOKEN = _(
    "The identity provider's answer could not be verified, so you were not signed in. Ask a "
    "workspace admin to check the single sign-on settings."
)
REFUSED_NO_EMAIL = _(
    "The identity provider did not share your email address, so we cannot tell which account is yours."
)
REFUSED_UNVERIFIED = _(
    "Your identity provider has not verified the email address {email}, so it cannot be used to "
    "sign in here. Verify the address with your provider, or sign in with your password."
)
REFUSED_NOT_MEMBER = _(
    "{email} is not the address of a member of {workspace}, so its single sign-on cannot sign you "
    "in. Ask a workspace admin to invite you, or sign in with your password."
)
REFUSED_OTHER_WORKSPACES = _(
    "The account for {email} also belongs to other workspaces, so it signs in with its password: "
    "the single sign-on of one workspace cannot open the others."
)
REFUSED_SITE_STAFF = _("Site administrator accounts sign in with their password, not single sign-on.")
REFUSED_INACTIVE = _("The account for {email} is not active. Finish its sign-up, or ask a workspace admin.")
REFUSED_NOT_CONFIGURED = _(
    "Single sign-on of this workspace is not set up completely. Ask a workspace admin to enter the "
    "client secret again."
)

# Reason codes in ``sso.refused`` events.
REASON_PROVIDER_ERROR = "provider_error"
REASON_STATE = "state_mismatch"
REASON_UNREACHABLE = "provider_unreachable"
REASON_INVALID_TOKEN = "invalid_token"
REASON_CODE_REJECTED = "code_rejected"
REASON_NO_EMAIL = "no_email"
REASON_UNVERIFIED = "email_unverified"
REASON_NOT_MEMBER = "not_member"
REASON_OTHER_WORKSPACES = "other_workspaces"
REASON_SITE_STAFF = "site_staff"
REASON_INACTIVE = "inactive"
REASON_NOT_CONFIGURED = "secret_unreadable"


class SSORefused(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SSOResult:
    user: User
    created: bool


# Settings --------------------------------------------------------------------------------------


def sso_config_of(*, workspace: Workspace) -> WorkspaceSSO | None:
    return WorkspaceSSO.objects.filter(workspace=workspace).first()


def sso_config_enabled_or_404(*, slug: str) -> WorkspaceSSO:
    """The switched-on provider of the workspace at ``slug``; a missing workspace and one without
    single sign-on answer the same 404."""
    config = (
        WorkspaceSSO.objects.select_related("workspace").filter(workspace__slug=slug, enabled=True).first()
    )
    if config is None:
        raise Http404(NOT_AVAILABLE)
    return config


def sso_available(*, slug: str) -> bool:
    return WorkspaceSSO.objects.filter(workspace__slug=slug, enabled=True).exists()


def normalize_discovery_url(url: str) -> str:
    """Admins paste the issuer or the whole discovery address; both mean the same document."""
    url = url.strip().rstrip("/")
    if not url.endswith(DISCOVERY_SUFFIX):
        url += DISCOVERY_SUFFIX
    return url


def _secure_enough(url: str) -> bool:
    return urlsplit(url).scheme == "https" or (settings.SSO_ALLOW_HTTP and urlsplit(url).scheme == "http")


def _check_discovery(url: str) -> None:
    try:
        response = requests.get(url, timeout=settings.SSO_HTTP_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError):
        raise ValidationError({"discovery_url": DISCOVERY_UNREADABLE.format(url=url)}) from None
    needed = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [key for key in needed if not document.get(key)] if isinstance(document, dict) else list(needed)
    if missing:
        raise ValidationError({"discovery_url": DISCOVERY_INCOMPLETE.format(missing=", ".join(missing))})
    # The code, the secret and the ID token travel to these: never in the clear.
    if not all(_secure_enough(str(document[key])) for key in needed[1:]):
        raise ValidationError({"discovery_url": ENDPOINTS_SCHEME})


@transaction.atomic
def sso_config_save(
    *,
    workspace: Workspace,
    discovery_url: str,
    client_id: str,
    client_secret: str,
    enabled: bool,
    allow_jit: bool,
    actor,
    request=None,
) -> WorkspaceSSO:
    """Create or update the workspace's provider; an empty ``client_secret`` keeps the stored one.

    Reads the discovery document when the address changes or single sign-on is switched on, so a
    typo is caught now rather than at someone's sign-in. Audits ``sso.config_changed`` with the
    names of the changed fields (never the secret). Locks the settings row.
    """
    config = WorkspaceSSO.objects.select_for_update().filter(workspace=workspace).first()
    discovery_url = normalize_discovery_url(discovery_url)
    client_id = client_id.strip()
    if config is None:
        if not client_secret:
            raise ValidationError({"client_secret": SECRET_REQUIRED})
        config = WorkspaceSSO(workspace=workspace)
        before = {}
    else:
        before = {
            "discovery_url": config.discovery_url,
            "client_id": config.client_id,
            "enabled": config.enabled,
            "allow_jit": config.allow_jit,
        }
    after = {
        "discovery_url": discovery_url,
        "client_id": client_id,
        "enabled": enabled,
        "allow_jit": allow_jit,
    }
    changed = [name for name, value in after.items() if before.get(name) != value]
    if client_secret:
        changed.append("client_secret")
        config.client_secret_encrypted = encrypt_secret(client_secret)
    if not changed:
        return config
    if "discovery_url" in changed and not _secure_enough(discovery_url):
        raise ValidationError({"discovery_url": URL_SCHEME})
    if enabled and ("discovery_url" in changed or "enabled" in changed):
        _check_discovery(discovery_url)
    for name, value in after.items():
        setattr(config, name, value)
    config.updated_at = timezone.now()
    config.full_clean()
    config.save()
    events.sso_config_changed(config=config, changed=changed, actor=actor, request=request)
    return config


# The flow ---------------------------------------------------------------------------------------


def _client(config: WorkspaceSSO, *, request) -> DjangoOAuth2App:
    """An Authlib client for this workspace's provider. Its name keys the flow's state in the
    session, so workspace B's callback finds nothing of a flow started for workspace A."""
    name = f"sso-w{config.workspace_id}"
    try:
        secret = decrypt_secret(config.client_secret_encrypted)
    except SecretUnreadable:
        _refuse(config, REASON_NOT_CONFIGURED, REFUSED_NOT_CONFIGURED, request=request)
    return DjangoOAuth2App(
        DjangoIntegration(name),
        name=name,
        client_id=config.client_id,
        client_secret=secret,
        server_metadata_url=config.discovery_url,
        client_kwargs={
            "scope": SCOPES,
            "code_challenge_method": "S256",
            "default_timeout": settings.SSO_HTTP_TIMEOUT,
        },
    )


def _refuse(config: WorkspaceSSO, reason: str, message: str, *, account=None, request=None):
    events.sso_refused(workspace=config.workspace, reason=reason, account=account, request=request)
    raise SSORefused(reason, message)


def safe_next(next_url: str, *, request, workspace: Workspace) -> str:
    """Where to land after signing in: a path inside this workspace, or nothing."""
    prefix = f"/w/{workspace.slug}/"
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if next_url and allowed and next_url.startswith(prefix) else ""


def sso_begin(*, request, config: WorkspaceSSO, redirect_uri: str, next_url: str = ""):
    """The redirect to the provider's authorization endpoint (code flow, PKCE S256, state, nonce)."""
    client = _client(config, request=request)
    request.session[NEXT_SESSION_KEY.format(workspace_id=config.workspace_id)] = safe_next(
        next_url, request=request, workspace=config.workspace
    )
    try:
        return client.authorize_redirect(request, redirect_uri)
    except (requests.RequestException, ValueError, KeyError):  # down, or no discovery document
        _refuse(config, REASON_UNREACHABLE, REFUSED_UNREACHABLE, request=request)


def sso_next_url(*, request, config: WorkspaceSSO) -> str:
    return request.session.pop(NEXT_SESSION_KEY.format(workspace_id=config.workspace_id), "")


def _verified_claims(*, request, config: WorkspaceSSO) -> dict:
    if request.GET.get("error"):
        _refuse(config, REASON_PROVIDER_ERROR, REFUSED_PROVIDER_ERROR, request=request)
    client = _client(config, request=request)
    try:
        token = client.authorize_access_token(request)
        claims = token.get("userinfo")
        if claims is None:  # no ID token at all: not OpenID Connect
            _refuse(config, REASON_INVALID_TOKEN, REFUSED_INVALID_TOKEN, request=request)
        claims = dict(claims)
        if "email" not in claims:
            # Providers that keep the ID token small give the address at the userinfo endpoint;
            # its answer counts only for the subject the signed ID token named.
            info = client.userinfo(token=token)
            if info.get("sub") != claims.get("sub"):
                _refuse(config, REASON_INVALID_TOKEN, REFUSED_INVALID_TOKEN, request=request)
            claims.update({key: info[key] for key in ("email", "email_verified", "name") if key in info})
    except MismatchingStateError:
        _refuse(config, REASON_STATE, REFUSED_STATE, request=request)
    except requests.RequestException:
        _refuse(config, REASON_UNREACHABLE, REFUSED_UNREACHABLE, request=request)
    except OAuthError:
        # The token endpoint refused the code: used, expired, or issued to another client.
        _refuse(config, REASON_CODE_REJECTED, REFUSED_INVALID_TOKEN, request=request)
    except (AuthlibBaseError, JoseError, ValueError, KeyError):
        # Bad signature, wrong issuer or audience, expired, wrong nonce, malformed token.
        _refuse(config, REASON_INVALID_TOKEN, REFUSED_INVALID_TOKEN, request=request)
    return claims


def _is_verified(claims: dict) -> bool:
    # Some providers send the flag as the string "true".
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def sso_complete(*, request, config: WorkspaceSSO) -> SSOResult:
    """Finish the flow at the callback and return the account to sign in (creating a requester
    when the workspace allows it). Raises ``SSORefused`` after auditing the refusal. The caller
    signs the person in with ``django.contrib.auth.login``."""
    claims = _verified_claims(request=request, config=config)
    email = User.objects.normalize_email(claims.get("email") if isinstance(claims.get("email"), str) else "")
    if not email:
        _refuse(config, REASON_NO_EMAIL, REFUSED_NO_EMAIL, request=request)
    workspace = config.workspace
    user = User.objects.filter(email__iexact=email).first()
    member = user is not None and Membership.objects.filter(user=user, workspace=workspace).exists()
    if not _is_verified(claims):
        _refuse(
            config,
            REASON_UNVERIFIED,
            REFUSED_UNVERIFIED.format(email=email),
            account=user if member else None,
            request=request,
        )
    if user is None and config.allow_jit:
        name = claims.get("name") if isinstance(claims.get("name"), str) else ""
        created = _jit_create(workspace=workspace, email=email, display_name=name[:150], request=request)
        if created is not None:
            return SSOResult(user=created, created=True)
        # Another callback created the same account a moment ago: it is a member now.
        user = User.objects.get(email__iexact=email)
        member = True
    if not member:
        # No account, or an account that is not a member: one answer (and one reason in this
        # workspace's log), so a provider chosen by this workspace's admins cannot learn which
        # addresses have accounts in other workspaces.
        _refuse(
            config,
            REASON_NOT_MEMBER,
            REFUSED_NOT_MEMBER.format(email=email, workspace=workspace.name),
            request=request,
        )
    _check_member(config, user=user, email=email, request=request)
    return SSOResult(user=user, created=False)


def _check_member(config: WorkspaceSSO, *, user: User, email: str, request) -> None:
    """A member of this workspace: is single sign-on of this workspace enough for the account?"""
    workspace = config.workspace
    if user.is_staff or user.is_superuser:
        _refuse(config, REASON_SITE_STAFF, REFUSED_SITE_STAFF, account=user, request=request)
    if not user.is_active:
        _refuse(config, REASON_INACTIVE, REFUSED_INACTIVE.format(email=email), account=user, request=request)
    if Membership.objects.filter(user=user).exclude(workspace=workspace).exists():
        _refuse(
            config,
            REASON_OTHER_WORKSPACES,
            REFUSED_OTHER_WORKSPACES.format(email=email),
            account=user,
            request=request,
        )


def _jit_create(*, workspace: Workspace, email: str, display_name: str, request) -> User | None:
    """A requester account for a verified address, with no usable password: it signs in through
    the provider. ``None`` when a concurrent callback created the account first."""
    try:
        with transaction.atomic():
            user = User(email=email, display_name=display_name, email_confirmed_at=timezone.now())
            user.set_unusable_password()
            # Uniqueness is the database's to decide: a concurrent creation ends in IntegrityError.
            user.full_clean(validate_unique=False, validate_constraints=False)
            user.save()
            membership = Membership(workspace=workspace, user=user, role=Role.REQUESTER)
            membership.full_clean(validate_unique=False, validate_constraints=False)
            membership.save()
            events.sso_account_created(user=user, workspace=workspace, request=request)
            events.member_added(membership=membership, actor=user, request=request)
    except IntegrityError:
        return None
    return user


def sso_signed_in(*, request, config: WorkspaceSSO, user: User) -> None:
    events.sso_signed_in(user=user, workspace=config.workspace, request=request)
