"""Helpers for the two-factor tests: codes computed from a device's secret, as an app would."""

import re
import time
from base64 import b32decode

from django_otp.oath import TOTP

from workspaces.two_factor import services

LOGIN_URL = "/accounts/login/"
VERIFY_URL = "/accounts/two-factor/verify/"


def code_for(device, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows ``steps_ahead`` 30-second steps from now. A later step
    than one already used is still inside django-otp's tolerance (one step either side)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def code_from_secret_text(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What an app shows after someone typed the key of the setup page by hand."""
    key = b32decode(secret_text.replace(" ", "") + "=" * (-len(secret_text.replace(" ", "")) % 8))
    totp = TOTP(key)
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def secret_on_page(html: str) -> str:
    match = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html)
    assert match, "the setup page shows no key to type"
    return match.group(1)


def codes_on_page(html: str) -> list[str]:
    block = re.search(r'data-testid="recovery-codes">(.*?)</ul>', html, re.S)
    assert block, "no recovery codes on the page"
    return re.findall(r"<li>([a-z2-7]{5}-[a-z2-7]{5})</li>", block.group(1))


def give_totp(user):
    """A confirmed TOTP device (no code spent yet) and recovery codes. Returns (device, codes)."""
    device = services.totp_setup_begin(user=user)
    device.confirmed = True
    device.save()
    return device, services.recovery_codes_generate(user=user)


def password_step(client, user, password, ip="192.0.2.10"):
    return client.post(LOGIN_URL, {"username": user.email, "password": password}, REMOTE_ADDR=ip)
