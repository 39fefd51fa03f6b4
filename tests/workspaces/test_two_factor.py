"""Two-factor sign-in: setting up TOTP, the two-step sign-in, recovery codes, replay, lockout,
removal, other sign-in paths, and a workspace's requirement for its staff."""

import asyncio
import io
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from privacy.audit import actions
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.conftest import make_member
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.workspaces.two_factor_support import (
    VERIFY_URL,
    code_for,
    code_from_secret_text,
    codes_on_page,
    give_totp,
    password_step,
    secret_on_page,
)
from workspaces.access import TWO_FACTOR_REQUIRED
from workspaces.models import Role
from workspaces.two_factor import passkeys, services, signin
from workspaces.two_factor.middleware import SecondFactorWebsocketGate
from workspaces.two_factor.models import Passkey, RecoveryCode, SecondFactorLock

pytestmark = pytest.mark.django_db


def audited(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("seq"))


def signed_in_as(client):
    return client.session.get("_auth_user_id")


@pytest.fixture
def ann(db):
    return UserFactory(email="ann@example.test")


# Setting up ------------------------------------------------------------------------------------------


def test_totp_setup_with_the_typed_key_turns_it_on_and_shows_ten_recovery_codes_once(client, ann):
    client.force_login(ann)
    page = client.get("/account/two-factor/app/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = secret_on_page(html)

    wrong = client.post("/account/two-factor/app/", {"code": "000000"})
    assert (
        wrong.status_code == 400
        and services.SETUP_WRONG_CODE.replace("'", "&#x27;") in wrong.content.decode()
    )
    assert not services.user_has_factor(ann)

    done = client.post("/account/two-factor/app/", {"code": code_from_secret_text(secret)})
    assert done.status_code == 200
    codes = codes_on_page(done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert services.user_has_factor(ann)
    stored = set(RecoveryCode.objects.filter(user=ann).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)
    # Shown once: the management page only counts them.
    manage = client.get("/account/two-factor/").content.decode()
    assert "10 of 10 left" in manage and codes[0] not in manage
    assert [e.detail for e in audited(actions.ACCOUNT_FACTOR_ADDED)] == [{"kind": "totp"}]
    assert [e.detail for e in audited(actions.ACCOUNT_RECOVERY_CODES_GENERATED)] == [{"count": 10}]
    # The panel on /account/ says it is on.
    assert "Two-factor sign-in" in client.get("/account/").content.decode()


def test_regenerating_recovery_codes_replaces_the_old_ones(client, ann):
    client.force_login(ann)
    _device, old = give_totp(ann)
    response = client.post("/account/two-factor/recovery-codes/")
    new = codes_on_page(response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert not services.recovery_code_use(user=ann, code=old[0])
    assert services.recovery_code_use(user=ann, code=new[0])


# The two-step sign-in ----------------------------------------------------------------------------------


def test_password_alone_does_not_sign_in_a_person_with_totp_the_code_does(client, ann):
    device, _codes = give_totp(ann)
    response = password_step(client, ann, PASSWORD)
    assert response.status_code == 302 and response["Location"] == VERIFY_URL
    assert signed_in_as(client) is None
    assert client.get("/account/").status_code == 302  # still anonymous: off to the login page
    assert not audited(actions.AUTH_LOGIN)

    page = client.get(VERIFY_URL)
    assert page.status_code == 200 and "Confirm it is you" in page.content.decode()
    wrong = client.post(VERIFY_URL, {"code": "123456" if code_for(device) != "123456" else "654321"})
    assert wrong.status_code == 400 and str(services.WRONG_CODE) in wrong.content.decode()
    assert signed_in_as(client) is None

    ok = client.post(VERIFY_URL, {"code": code_for(device)})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert int(signed_in_as(client)) == ann.pk
    assert client.get("/account/").status_code == 200
    assert [e.detail for e in audited(actions.AUTH_SECOND_FACTOR_PASSED)] == [{"method": "totp"}]
    assert [e.detail["failures"] for e in audited(actions.AUTH_SECOND_FACTOR_FAILED)] == [1]
    assert len(audited(actions.AUTH_LOGIN)) == 1


def test_a_person_without_a_factor_signs_in_with_the_password_alone(client, ann):
    response = password_step(client, ann, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(signed_in_as(client)) == ann.pk


def test_the_next_page_survives_the_second_step(client, ann):
    device, _ = give_totp(ann)
    client.post("/accounts/login/", {"username": ann.email, "password": PASSWORD, "next": "/account/"})
    assert client.post(VERIFY_URL, {"code": code_for(device)})["Location"] == "/account/"


def test_a_totp_code_cannot_be_replayed(client, ann):
    device, _ = give_totp(ann)
    code = code_for(device)
    password_step(client, ann, PASSWORD)
    assert client.post(VERIFY_URL, {"code": code}).status_code == 302
    client.logout()

    password_step(client, ann, PASSWORD)
    replay = client.post(VERIFY_URL, {"code": code})
    assert replay.status_code == 400 and str(services.WRONG_CODE) in replay.content.decode()
    assert signed_in_as(client) is None
    # The next step's code still works.
    assert client.post(VERIFY_URL, {"code": code_for(device, steps_ahead=1)}).status_code == 302


def test_one_totp_code_sent_twice_at_once_passes_once(ann, transactional_db):
    device, _ = give_totp(ann)
    code = code_for(device)
    outcomes = []
    run_threads(4, lambda i: outcomes.append(services.second_factor_verify_code(user=ann, code=code)))
    assert sorted(o.passed for o in outcomes) == [False, False, False, True]


def test_a_recovery_code_signs_in_once(client, ann):
    _device, codes = give_totp(ann)
    password_step(client, ann, PASSWORD)
    ok = client.post(VERIFY_URL, {"code": codes[3].upper().replace("-", " ")})
    assert ok.status_code == 302 and int(signed_in_as(client)) == ann.pk
    assert [e.detail for e in audited(actions.ACCOUNT_RECOVERY_CODE_USED)] == [{"remaining": 9}]
    assert [e.detail for e in audited(actions.AUTH_SECOND_FACTOR_PASSED)] == [{"method": "recovery_code"}]
    client.logout()

    password_step(client, ann, PASSWORD)
    again = client.post(VERIFY_URL, {"code": codes[3]})
    assert again.status_code == 400 and signed_in_as(client) is None


def test_a_recovery_code_is_spent_once_even_by_racing_requests(ann, transactional_db):
    _device, codes = give_totp(ann)
    wins = []
    run_threads(4, lambda i: wins.append(services.recovery_code_use(user=ann, code=codes[0])))
    assert sorted(wins) == [False, False, False, True]


# Lockout -----------------------------------------------------------------------------------------------


def test_five_wrong_codes_lock_the_second_step_and_the_person_starts_over(client, ann, settings):
    device, _ = give_totp(ann)
    password_step(client, ann, PASSWORD)
    for _ in range(4):
        assert client.post(VERIFY_URL, {"code": "zzzzz-zzzzz"}).status_code == 400
    locked = client.post(VERIFY_URL, {"code": "zzzzz-zzzzz"})
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    assert locked.status_code == 429
    assert services.LOCKED.format(minutes=minutes) in locked.content.decode()
    assert [e.detail for e in audited(actions.AUTH_SECOND_FACTOR_LOCKED)] == [{"minutes": minutes}]
    # The pending sign-in is gone: the verify page sends back to the password form.
    assert client.get(VERIFY_URL)["Location"] == "/accounts/login/"

    # Starting over during the cool-off: even the right code is not checked.
    password_step(client, ann, PASSWORD)
    refused = client.post(VERIFY_URL, {"code": code_for(device)})
    assert refused.status_code == 429 and signed_in_as(client) is None

    # After the cool-off the person can sign in again.
    SecondFactorLock.objects.filter(user=ann).update(locked_until=timezone.now() - timedelta(seconds=1))
    password_step(client, ann, PASSWORD)
    assert client.post(VERIFY_URL, {"code": code_for(device)}).status_code == 302
    assert int(signed_in_as(client)) == ann.pk


def test_the_failure_count_is_per_person_not_per_browser(client, ann):
    give_totp(ann)
    other = Client()
    password_step(client, ann, PASSWORD)
    password_step(other, ann, PASSWORD, ip="198.51.100.7")
    for _ in range(3):
        client.post(VERIFY_URL, {"code": "aaaaa-aaaaa"})
    other.post(VERIFY_URL, {"code": "aaaaa-aaaaa"})
    assert other.post(VERIFY_URL, {"code": "aaaaa-aaaaa"}).status_code == 429
    assert client.post(VERIFY_URL, {"code": "aaaaa-aaaaa"}).status_code == 429


def test_parallel_guesses_share_one_count(ann, transactional_db):
    give_totp(ann)
    outcomes = []
    run_threads(
        8, lambda i: outcomes.append(services.second_factor_verify_code(user=ann, code="bbbbb-bbbbb"))
    )
    # Exactly five were checked (the fifth locked it); the others met the lock without a check.
    assert sum(1 for o in outcomes if not o.locked) == 4
    assert len(audited(actions.AUTH_SECOND_FACTOR_FAILED)) == 5
    assert len(audited(actions.AUTH_SECOND_FACTOR_LOCKED)) == 1


# Other sign-in paths (single sign-on, confirmation links) ---------------------------------------------


def test_a_login_by_another_path_still_owes_the_second_factor(client, ann):
    device, _ = give_totp(ann)
    client.force_login(ann)  # what an SSO callback does: django's login()
    assert client.session.get(signin.UNVERIFIED) is True
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith(VERIFY_URL + "?next=")
    assert client.get("/w/anything/tickets/").status_code == 302
    assert client.get(VERIFY_URL).status_code == 200

    ok = client.post(f"{VERIFY_URL}?next=/account/", {"code": code_for(device)})
    assert ok.status_code == 302 and ok["Location"] == "/account/"
    assert client.get("/account/").status_code == 200


def test_an_unverified_session_can_sign_out(client, ann):
    give_totp(ann)
    client.force_login(ann)
    assert client.post("/accounts/logout/").status_code == 302
    assert signed_in_as(client) is None


def test_an_unverified_session_has_an_anonymous_websocket(ann):
    give_totp(ann)
    session = SessionStore()
    session[signin.UNVERIFIED] = True
    session.save()
    seen = {}

    async def inner(scope, receive, send):
        seen["user"] = scope["user"]

    gate = SecondFactorWebsocketGate(inner)
    asyncio.run(gate({"type": "websocket", "session": session, "user": ann}, None, None))
    assert not seen["user"].is_authenticated
    session[signin.UNVERIFIED] = False
    asyncio.run(gate({"type": "websocket", "session": session, "user": ann}, None, None))
    assert seen["user"] is ann


# Removing a factor ----------------------------------------------------------------------------------------


def test_removing_the_app_needs_the_password_or_a_current_code(client, ann):
    device, _ = give_totp(ann)
    client.force_login(ann)
    client.post(VERIFY_URL, {"code": code_for(device)})

    refused = client.post("/account/two-factor/app/remove/", {"secret": "not-my-password"})
    assert refused.status_code == 400 and str(services.REAUTH_WRONG) in refused.content.decode()
    assert TOTPDevice.objects.filter(user=ann).exists()

    done = client.post("/account/two-factor/app/remove/", {"secret": code_for(device, steps_ahead=1)})
    assert done.status_code == 302
    assert not services.user_has_factor(ann)
    assert not RecoveryCode.objects.filter(user=ann).exists()  # no factor, no stand-in codes
    assert [e.detail for e in audited(actions.ACCOUNT_FACTOR_REMOVED)] == [
        {"kind": "totp", "confirmed_by": "code"}
    ]


def test_removing_with_the_password(ann):
    give_totp(ann)
    services.totp_remove(user=ann, secret=PASSWORD)
    assert not services.user_has_factor(ann)
    assert audited(actions.ACCOUNT_FACTOR_REMOVED)[0].detail["confirmed_by"] == "password"


def test_removing_another_persons_passkey_is_not_found(ann):
    stranger = UserFactory()
    passkey = Passkey.objects.create(user=stranger, name="Theirs", credential_id=b"x", public_key=b"y")
    with pytest.raises(services.TwoFactorError) as error:
        services.passkey_remove(user=ann, passkey_id=passkey.pk, secret=PASSWORD)
    assert str(error.value) == services.NOT_FOUND
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_a_malformed_passkey_answer_counts_as_a_failure(client, ann):
    give_totp(ann)
    password_step(client, ann, PASSWORD)
    response = client.post("/accounts/two-factor/verify/passkey/", {"credential": "{not json"})
    assert response.status_code == 400 and str(passkeys.PASSKEY_REFUSED) in response.content.decode()
    assert audited(actions.AUTH_SECOND_FACTOR_FAILED)[0].detail == {"method": "passkey", "failures": 1}


# A workspace's requirement ----------------------------------------------------------------------------


def test_an_admin_requires_a_second_factor_of_staff_not_of_requesters(
    client, workspace, admin, agent, requester
):
    client.force_login(admin.user)
    page = client.get(f"/w/{workspace.slug}/admin/security/")
    assert page.status_code == 200 and "Sign-in security" in page.content.decode()
    assert (
        client.post(f"/w/{workspace.slug}/admin/security/", {"require_two_factor": "on"}).status_code == 302
    )
    workspace.refresh_from_db()
    assert workspace.require_two_factor
    (event,) = audited(actions.SETTINGS_CHANGED, workspace=workspace)
    assert event.detail == {"setting": "require_two_factor", "old": False, "new": True}

    # The admin has no factor either: sent to set one up, with the reason.
    sent = client.get(f"/w/{workspace.slug}/tickets/", follow=True)
    assert sent.redirect_chain[-1][0] == "/account/two-factor/"
    assert TWO_FACTOR_REQUIRED.format(workspace=workspace.name) in sent.content.decode()

    client.force_login(agent.user)
    assert client.get(f"/w/{workspace.slug}/tickets/")["Location"] == "/account/two-factor/"
    client.force_login(requester.user)
    assert client.get(f"/w/{workspace.slug}/tickets/").status_code == 200

    # With a factor (and the second step passed), the agent works as before.
    device, _ = give_totp(agent.user)
    client.force_login(agent.user)
    client.post(VERIFY_URL, {"code": code_for(device)})
    assert client.get(f"/w/{workspace.slug}/tickets/").status_code == 200


def test_the_requirement_of_one_workspace_does_not_reach_another(client, workspace, other_workspace):
    both = make_member(workspace, Role.AGENT)
    MembershipFactory(workspace=other_workspace, role=Role.AGENT, user=both.user)
    services.workspace_set_two_factor_requirement(workspace=other_workspace, required=True, actor=None)
    client.force_login(both.user)
    assert client.get(f"/w/{workspace.slug}/tickets/").status_code == 200
    assert client.get(f"/w/{other_workspace.slug}/tickets/")["Location"] == "/account/two-factor/"


def test_only_admins_reach_the_security_page(client, workspace, agent):
    client.force_login(agent.user)
    assert client.get(f"/w/{workspace.slug}/admin/security/").status_code == 404
    assert (
        client.post(f"/w/{workspace.slug}/admin/security/", {"require_two_factor": "on"}).status_code == 404
    )
    workspace.refresh_from_db()
    assert not workspace.require_two_factor


def test_erasing_the_account_deletes_every_factor(requester):
    user = requester.user
    give_totp(user)
    Passkey.objects.create(user=user, name="Laptop", credential_id=b"cred", public_key=b"key")
    services.second_factor_verify_code(user=user, code="ccccc-ccccc")
    call_command("erase_user", user.email, "--now", stdout=io.StringIO())
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not Passkey.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert not SecondFactorLock.objects.filter(user=user).exists()
