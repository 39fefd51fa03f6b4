"""Passkeys (WebAuthn) as a second factor, through py_webauthn.

The relying party is ``settings.WEBAUTHN_RP_ID`` / ``WEBAUTHN_ORIGIN`` when set, else the host
and origin the request came to (so http://localhost works in development and browser tests).
Each ceremony's challenge lives in the session and is spent by the first answer, right or wrong.
"""

import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from privacy.audit import events
from workspaces.two_factor.models import Passkey
from workspaces.two_factor.services import KIND_PASSKEY, METHOD_PASSKEY, TwoFactorError

REGISTER_CHALLENGE = "two_factor.passkey_register_challenge"
SIGNIN_CHALLENGE = "two_factor.passkey_signin_challenge"
PASSKEY_REFUSED = _("The passkey could not be used. Try again, or use a code instead.")
PASSKEY_NOT_REGISTERED = _("The passkey could not be registered. Try again.")
PASSKEY_NO_CHALLENGE = _("The passkey request expired. Reload the page and try again.")
PASSKEY_DUPLICATE = _("This passkey is already registered.")


def rp_id(request) -> str:
    return settings.WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0].strip("[]")


def origin(request) -> str:
    return settings.WEBAUTHN_ORIGIN or f"{request.scheme}://{request.get_host()}"


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=bytes(p.credential_id)) for p in Passkey.objects.filter(user=user)
    ]


def registration_options(request, *, user) -> dict:
    """Options for ``navigator.credentials.create()``; the challenge is kept in the session."""
    options = generate_registration_options(
        rp_id=rp_id(request),
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=str(user.pk).encode(),
        user_name=user.email,
        user_display_name=user.get_full_name(),
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    request.session[REGISTER_CHALLENGE] = bytes_to_base64url(options.challenge)
    return json.loads(options_to_json(options))


def _challenge(request, key: str) -> bytes:
    value = request.session.pop(key, None)
    if not value:
        raise TwoFactorError(PASSKEY_NO_CHALLENGE)
    return base64url_to_bytes(value)


def passkey_register(request, *, user, name: str, credential_json: str) -> Passkey:
    """Verify the browser's answer to ``registration_options`` and keep the credential.
    Audits ``account.factor_added`` (kind passkey)."""
    challenge = _challenge(request, REGISTER_CHALLENGE)
    try:
        verified = verify_registration_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=origin(request),
        )
        transports = json.loads(credential_json).get("response", {}).get("transports") or []
    except (WebAuthnException, ValueError, TypeError, KeyError):
        raise TwoFactorError(PASSKEY_NOT_REGISTERED) from None
    try:
        with transaction.atomic():
            passkey = Passkey(
                user=user,
                name=name,
                credential_id=verified.credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=[t for t in transports if isinstance(t, str)][:8],
            )
            passkey.full_clean(exclude=["credential_id", "public_key"])
            passkey.save()
            events.account_factor_added(user=user, kind=KIND_PASSKEY, request=request)
    except IntegrityError:
        raise TwoFactorError(PASSKEY_DUPLICATE) from None
    return passkey


def authentication_options(request, *, user) -> dict | None:
    """Options for ``navigator.credentials.get()`` limited to the person's passkeys, or ``None``
    when they have none."""
    allowed = _descriptors(user)
    if not allowed:
        return None
    options = generate_authentication_options(
        rp_id=rp_id(request),
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    request.session[SIGNIN_CHALLENGE] = bytes_to_base64url(options.challenge)
    return json.loads(options_to_json(options))


def passkey_check(request, *, user, credential_json: str) -> str | None:
    """The check for ``second_factor_attempt``: ``"passkey"`` when the assertion is valid for one
    of the person's passkeys (its signature counter is moved on), else ``None``."""
    try:
        challenge = _challenge(request, SIGNIN_CHALLENGE)
        raw_id = json.loads(credential_json).get("rawId") or ""
        credential_id = base64url_to_bytes(raw_id)
    except (TwoFactorError, ValueError, TypeError, AttributeError):
        return None
    passkey = Passkey.objects.select_for_update().filter(user=user, credential_id=credential_id).first()
    if passkey is None:
        return None
    try:
        verified = verify_authentication_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=rp_id(request),
            expected_origin=origin(request),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError):
        return None
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = timezone.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    return METHOD_PASSKEY
