"""Pre-confirmation account takeover (issue 12): someone signs up first with another person's
address and a password of their own, hoping the owner later confirms that sign-up.

The rules under test (privacy/account/signup.py): a confirmation needs the sign-up's password,
so it activates only credentials the clicker chose; a new sign-up for a pending address replaces
its password and kills every earlier link; a password reset works for a pending sign-up and
confirms it; nothing on the page tells a confirmed address from a free one.
"""

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse

from privacy.account import signup
from privacy.account.models import PolicyAcceptance
from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.factories import PASSWORD, UserFactory
from workspaces.models import User

VICTIM = "victim@example.test"
ATTACKER_PASSWORD = "attacker-chose-this-41"
VICTIM_PASSWORD = "victim-picked-lilac-73"
SIGNUP_LINK_RE = re.compile(r"http://\S+?(/accounts/signup/(confirm|reject)/[^/\s]+/)")
RESET_LINK_RE = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")
INITIAL_POLICIES = importlib.import_module("privacy.migrations.0003_initial_policies")


@pytest.fixture
def policies(db):
    INITIAL_POLICIES.publish(django_apps, None)
    return signup.policies_current()


@pytest.fixture
def sign_up(policies, django_capture_on_commit_callbacks):
    def do(client, *, email=VICTIM, name, password, ip):
        data = {
            "display_name": name,
            "email": email,
            "password1": password,
            "password2": password,
            "accept_policies": "on",
            "age_confirmed": "on",
            "policies_shown": f"{policies.terms.pk},{policies.privacy.pk}",
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/accounts/signup/", data, REMOTE_ADDR=ip)

    return do


def links(message) -> dict[str, str]:
    return {kind: path for path, kind in SIGNUP_LINK_RE.findall(message.body)}


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def can_sign_in(email, password) -> bool:
    client = Client()
    response = client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR="192.0.2.200"
    )
    return response.status_code == 302 and "_auth_user_id" in client.session


@pytest.mark.django_db
def test_the_victims_own_signup_replaces_the_attackers_and_only_the_victims_password_works(
    sign_up, mailoutbox, policies
):
    attacker, victim = Client(), Client()
    sign_up(attacker, name="Helpful Support", password=ATTACKER_PASSWORD, ip="198.51.100.66")
    attackers_email = mailoutbox[0]  # it lands in the victim's mailbox
    assert attackers_email.to == [VICTIM]

    response = sign_up(victim, name="Vera Victim", password=VICTIM_PASSWORD, ip="192.0.2.10")

    assert response["Location"] == reverse("signup_sent")
    assert len(mailoutbox) == 2 and mailoutbox[1].to == [VICTIM]
    account = User.objects.get(email=VICTIM)
    assert (account.is_active, account.email_confirmed_at, account.display_name) == (
        False,
        None,
        "Vera Victim",
    )
    (replaced,) = events(audit_actions.ACCOUNT_SIGNUP_REPLACED)
    assert (replaced.target_id, replaced.actor_id, replaced.ip_address) == (
        str(account.pk),
        None,
        "192.0.2.10",
    )
    assert replaced.detail == {"policies": [policies.terms.pk, policies.privacy.pk]}
    assert ATTACKER_PASSWORD not in str(replaced.detail) and VICTIM not in str(replaced.detail)

    # The first email's links are dead: they say so and change nothing.
    old = links(attackers_email)
    for method, path, data in [
        ("get", old["confirm"], None),
        ("post", old["confirm"], {"password": ATTACKER_PASSWORD}),
        ("post", old["reject"], None),
    ]:
        dead = getattr(victim, method)(path, data)
        assert dead.status_code == 400, (method, path)
        assert str(signup.LINK_REPLACED) in dead.content.decode()
    assert User.objects.filter(email=VICTIM, is_active=False).exists()

    # The victim confirms with the newest link and the password they chose.
    newest = links(mailoutbox[1])["confirm"]
    confirmed = victim.post(newest, {"password": VICTIM_PASSWORD})

    assert confirmed.status_code == 302
    assert int(victim.session["_auth_user_id"]) == account.pk
    account.refresh_from_db()
    assert account.is_active and account.email_confirmed_at is not None
    assert not can_sign_in(VICTIM, ATTACKER_PASSWORD)
    assert can_sign_in(VICTIM, VICTIM_PASSWORD)
    assert PolicyAcceptance.objects.filter(user=account).count() == 2


@pytest.mark.django_db
def test_a_confirmation_link_does_not_activate_a_password_the_clicker_did_not_choose(
    sign_up, mailoutbox, settings, ratelimit_clock
):
    sign_up(Client(), name="Helpful Support", password=ATTACKER_PASSWORD, ip="198.51.100.66")
    confirm = links(mailoutbox[0])["confirm"]
    victim = Client()

    page = victim.get(confirm)
    assert page.status_code == 200
    assert 'type="password"' in page.content.decode()

    # The victim never signed up: whatever they type is not the attacker's password.
    attempts, _ = settings.RATE_LIMITS["signup_confirm"]["account"]
    for _ in range(attempts):
        wrong = victim.post(confirm, {"password": VICTIM_PASSWORD}, REMOTE_ADDR="192.0.2.10")
        assert wrong.status_code == 400
        assert str(signup.CONFIRM_PASSWORD_WRONG) in wrong.content.decode()
    refused = victim.post(confirm, {"password": ATTACKER_PASSWORD}, REMOTE_ADDR="192.0.2.10")

    assert refused.status_code == 400
    assert "Too many wrong passwords for this sign-up. Try again in" in refused.content.decode()
    account = User.objects.get(email=VICTIM)
    assert (account.is_active, account.email_confirmed_at) == (False, None)
    assert "_auth_user_id" not in victim.session
    assert not events(audit_actions.ACCOUNT_SIGNUP_CONFIRMED)
    (limited,) = events(audit_actions.RATE_LIMIT_REFUSED)
    assert limited.detail == {"action": "signup_confirm", "scope": "account"}


@pytest.mark.django_db
def test_a_password_reset_takes_over_a_pending_signup_and_confirms_it(client, sign_up, mailoutbox):
    sign_up(Client(), name="Helpful Support", password=ATTACKER_PASSWORD, ip="198.51.100.66")
    old = links(mailoutbox[0])
    mailoutbox.clear()

    client.post(reverse("password_reset"), {"email": VICTIM}, REMOTE_ADDR="192.0.2.10")

    (reset_email,) = mailoutbox
    assert reset_email.to == [VICTIM]
    assert "Choosing a password here confirms the address" in reset_email.body
    (path,) = RESET_LINK_RE.findall(reset_email.body)
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": VICTIM_PASSWORD, "new_password2": VICTIM_PASSWORD})

    assert done["Location"] == reverse("password_reset_complete")
    account = User.objects.get(email=VICTIM)
    assert account.is_active and account.email_confirmed_at is not None
    (confirmed,) = events(audit_actions.ACCOUNT_SIGNUP_CONFIRMED)
    assert confirmed.detail == {"via": "password_reset"}
    assert confirmed.actor_id == account.pk
    assert len(events(audit_actions.AUTH_PASSWORD_RESET_DONE)) == 1
    # The attacker's acceptances were not the owner's: they are asked again at sign-in.
    assert not PolicyAcceptance.objects.filter(user=account).exists()
    assert not can_sign_in(VICTIM, ATTACKER_PASSWORD)
    assert can_sign_in(VICTIM, VICTIM_PASSWORD)
    owner = Client()
    owner.post(reverse("login"), {"username": VICTIM, "password": VICTIM_PASSWORD}, REMOTE_ADDR="192.0.2.10")
    assert "policy-notice" in owner.get(reverse("home")).content.decode()
    # The sign-up's own links are dead too.
    dead = client.post(old["confirm"], {"password": ATTACKER_PASSWORD})
    assert dead.status_code == 400
    assert str(signup.LINK_REPLACED) in dead.content.decode()


@pytest.mark.django_db
def test_the_signup_page_answers_alike_for_a_new_a_pending_and_a_confirmed_address(sign_up, mailoutbox):
    UserFactory(email="owner@example.test", password=PASSWORD)
    sign_up(Client(), email="pending@example.test", name="P", password=ATTACKER_PASSWORD, ip="198.51.100.1")
    mailoutbox.clear()
    pages = {}
    for email in ("new@example.test", "pending@example.test", "owner@example.test"):
        person = Client()
        response = sign_up(person, email=email, name="Same Name", password=VICTIM_PASSWORD, ip="192.0.2.30")
        assert response.status_code == 302
        assert response["Location"] == reverse("signup_sent")
        pages[email] = person.get(response["Location"]).content.decode().replace(email, "X")
        # CSRF tokens differ per client; compare the page without them.
        pages[email] = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", pages[email])

    assert pages["new@example.test"] == pages["pending@example.test"] == pages["owner@example.test"]
    by_address = {m.to[0]: m for m in mailoutbox}
    assert set(links(by_address["new@example.test"])) == {"confirm", "reject"}
    assert set(links(by_address["pending@example.test"])) == {"confirm", "reject"}
    # The owner of the confirmed account gets a notice that points to the reset, no link to use.
    notice = by_address["owner@example.test"]
    assert links(notice) == {}
    assert reverse("password_reset") in notice.body
    assert User.objects.get(email="owner@example.test").check_password(PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_racing_a_replacing_signup_never_activates_the_new_password(policies):
    """One thread confirms the first sign-up with its password while another replaces it: either
    order is fine, but the account never ends active with a password its confirmer did not type."""
    first_password, second_password = "first-person-typed-11", "second-person-typed-22"
    signup.signup_request(
        display_name="First", email=VICTIM, password=first_password, policy_ids=policies.ids
    )
    token = signup.signup_token_make(user=User.objects.get(email=VICTIM), salt=signup.CONFIRM_SALT)
    outcomes = {}

    def act(index):
        if index == 0:
            try:
                signup.signup_confirm(token=token, password=first_password)
                outcomes["confirm"] = "confirmed"
            except signup.SignupLinkError as error:
                outcomes["confirm"] = error.message
        else:
            signup.signup_request(
                display_name="Second", email=VICTIM, password=second_password, policy_ids=policies.ids
            )

    run_threads(2, act)

    account = User.objects.get(email=VICTIM)
    if outcomes["confirm"] == "confirmed":
        assert account.is_active and account.check_password(first_password)
    else:
        assert outcomes["confirm"] == signup.LINK_REPLACED
        assert not account.is_active and account.check_password(second_password)
