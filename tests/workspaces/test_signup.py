import importlib
import json
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from privacy.account import signup
from privacy.account.export import export_consents
from privacy.account.models import Consent, ConsentSource, PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.account.signup import AGE_CONFIRMED, purge_unconfirmed_signups
from privacy.account.signup_forms import AGE_REQUIRED, PASSWORDS_DIFFER, POLICIES_CHANGED, TERMS_REQUIRED
from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from privacy.personal_data.export_context import ExportContext
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from workspaces.models import User

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "pale-orange-kettle-42"
SIGNUP_URL = "/accounts/signup/"
LINK_RE = re.compile(r"http://\S+?(/accounts/signup/(confirm|reject)/[^/\s]+/)")
INITIAL_POLICIES = importlib.import_module("privacy.migrations.0003_initial_policies")


@pytest.fixture
def policies(db):
    """The published policies (a browser test's flush may have removed the migration's rows)."""
    INITIAL_POLICIES.publish(django_apps, None)
    return signup.policies_current()


@pytest.fixture
def sign_up(client, policies, django_capture_on_commit_callbacks):
    def do(email="ann@example.test", name="Ann Example", password=NEW_PASSWORD, **extra):
        data = {
            "display_name": name,
            "email": email,
            "password1": password,
            "password2": password,
            "accept_policies": "on",
            "age_confirmed": "on",
            "policies_shown": f"{policies.terms.pk},{policies.privacy.pk}",
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(SIGNUP_URL, data)

    return do


def links(message) -> dict[str, str]:
    return {kind: path for path, kind in LINK_RE.findall(message.body)}


def events(action):
    return list(AuditEvent.objects.filter(action=action))


def assert_no_secrets(event, *secrets):
    blob = json.dumps(
        [event.detail, event.target_id, event.actor_label, event.user_agent], ensure_ascii=False
    )
    for secret in secrets:
        assert secret not in blob


def test_initial_policies_migration_publishes_terms_and_privacy(db):
    PolicyVersion.objects.filter(version=INITIAL_POLICIES.VERSION).delete()
    INITIAL_POLICIES.publish(django_apps, None)
    INITIAL_POLICIES.publish(django_apps, None)  # idempotent

    current = signup.policies_current()
    assert (current.terms.kind, current.terms.version) == (PolicyKind.TERMS, "2026-11-01")
    # The privacy policy has a newer version since (migration 0011: complaints, age, contact).
    assert current.privacy.kind == PolicyKind.PRIVACY
    assert current.privacy.version == "2026-12-01"
    assert PolicyVersion.objects.filter(version="2026-11-01").count() == 2


def test_signup_page_links_the_current_policy_versions(client, policies, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "I accept the" in html
    assert f'href="{reverse("policy", args=["terms"])}"' in html
    assert f'href="{reverse("policy", args=["privacy"])}"' in html
    assert f"version {policies.terms.version}" in html
    assert "Create account" in html


def test_signup_page_speaks_the_visitors_language_in_its_policy_sentences(client, policies):
    """The acceptance label and the versions line are whole translated sentences, links kept."""
    html = client.get(SIGNUP_URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "I accept the" not in html
    assert "Terms of service version" not in html
    terms_url = reverse("policy", args=["terms"])
    link = f'<a href="{terms_url}" target="_blank" rel="noopener">conditions d’utilisation</a>'
    assert f"J’accepte les {link}" in html
    assert f"Conditions d’utilisation version {policies.terms.version}" in html


@pytest.mark.parametrize("kind", ["terms", "privacy"])
def test_policy_pages_show_the_current_text(client, policies, kind, django_assert_max_num_queries):
    PolicyVersion.objects.create(
        kind=kind,
        version="2020-01-01",
        summary="Old text",
        published_at=timezone.now() - timedelta(days=3000),
    )
    with django_assert_max_num_queries(3):
        response = client.get(reverse("policy", args=[kind]))

    current = getattr(policies, kind)
    assert response.status_code == 200
    assert current.summary.splitlines()[0] in response.content.decode()
    assert f"Version {current.version}" in response.content.decode()
    assert "Old text" not in response.content.decode()


def test_unknown_policy_kind_is_404(client, policies):
    assert client.get("/accounts/policies/cookies/").status_code == 404


def test_signup_creates_an_inactive_user_with_acceptances_and_sends_one_email(sign_up, policies, mailoutbox):
    response = sign_up(email="Ann@Example.TEST")

    assert response.status_code == 302
    assert response["Location"] == reverse("signup_sent")
    user = User.objects.get()
    assert user.email == "ann@example.test"
    assert user.display_name == "Ann Example"
    assert user.is_active is False
    assert user.email_confirmed_at is None
    assert user.last_login is None
    assert user.check_password(NEW_PASSWORD)
    assert set(PolicyAcceptance.objects.filter(user=user).values_list("policy_id", flat=True)) == {
        policies.terms.pk,
        policies.privacy.pk,
    }
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ann@example.test"]
    assert set(links(mailoutbox[0])) == {"confirm", "reject"}

    (event,) = events(audit_actions.ACCOUNT_SIGNUP)
    assert event.workspace_id is None
    assert event.actor_id is None
    assert event.actor_label == ""
    assert (event.target_type, event.target_id) == ("workspaces.user", str(user.pk))
    assert_no_secrets(event, NEW_PASSWORD, "ann@example.test", *links(mailoutbox[0]).values())


def test_check_your_email_page_names_the_address(sign_up, client):
    sign_up()
    response = client.get(reverse("signup_sent"))
    assert "Check your email" in response.content.decode()
    assert "ann@example.test" in response.content.decode()


def test_terms_must_be_accepted_and_input_is_kept(sign_up, mailoutbox):
    response = sign_up(accept_policies="")

    assert response.status_code == 200
    html = response.content.decode()
    assert str(TERMS_REQUIRED) in html
    assert 'value="ann@example.test"' in html
    assert 'value="Ann Example"' in html
    assert not User.objects.exists()
    assert mailoutbox == []
    assert not AuditEvent.objects.exists()


def test_passwords_must_match(sign_up):
    response = sign_up(password2="something-else-entirely")
    assert str(PASSWORDS_DIFFER) in response.content.decode()
    assert not User.objects.exists()


def test_weak_password_is_refused(sign_up):
    response = sign_up(password="12345678")
    assert "This password is too common." in response.content.decode()
    assert not User.objects.exists()


def test_policies_published_during_signup_must_be_accepted_again(sign_up, policies, mailoutbox):
    newer = PolicyVersion.objects.create(kind=PolicyKind.TERMS, version="2026-11-20", summary="New terms")

    response = sign_up()

    html = response.content.decode()
    assert str(POLICIES_CHANGED) in html
    assert f'value="{newer.pk},{policies.privacy.pk}"' in html
    assert not User.objects.exists()
    assert mailoutbox == []


def test_signed_in_people_are_sent_home(client, policies):
    client.force_login(UserFactory())
    assert client.get(SIGNUP_URL)["Location"] == reverse("home")


# Confirming ------------------------------------------------------------------------------------


def test_opening_the_confirm_link_shows_a_button_and_changes_nothing(sign_up, client, mailoutbox):
    sign_up()
    response = client.get(links(mailoutbox[0])["confirm"])

    assert response.status_code == 200
    html = response.content.decode()
    assert 'method="post"' in html
    assert ">Confirm</button>" in html
    user = User.objects.get()
    assert (user.is_active, user.email_confirmed_at) == (False, None)
    assert not events(audit_actions.ACCOUNT_SIGNUP_CONFIRMED)


def test_confirming_activates_and_signs_in_to_the_empty_home_page(sign_up, client, mailoutbox):
    sign_up()
    confirm = links(mailoutbox[0])["confirm"]

    response = client.post(confirm, {"password": NEW_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get()
    assert user.is_active is True
    assert user.email_confirmed_at is not None
    assert int(client.session["_auth_user_id"]) == user.pk
    home = client.get(reverse("home"))
    assert "You are not a member of any workspace yet." in home.content.decode()
    (confirmed,) = events(audit_actions.ACCOUNT_SIGNUP_CONFIRMED)
    assert (confirmed.actor_id, confirmed.workspace_id) == (user.pk, None)
    assert len(events(audit_actions.AUTH_LOGIN)) == 1

    # The link is used up: a second press changes nothing and says so.
    again = client.post(confirm, {"password": NEW_PASSWORD})
    assert again.status_code == 400
    assert str(signup.ALREADY_CONFIRMED) in again.content.decode()
    assert len(events(audit_actions.ACCOUNT_SIGNUP_CONFIRMED)) == 1


def test_a_confirmed_account_can_sign_in_with_its_password(sign_up, client, mailoutbox):
    sign_up()
    client.post(links(mailoutbox[0])["confirm"], {"password": NEW_PASSWORD})
    client.logout()

    response = client.post(reverse("login"), {"username": "ann@example.test", "password": NEW_PASSWORD})

    assert response.status_code == 302


def test_unconfirmed_account_cannot_sign_in(sign_up, client):
    sign_up()
    response = client.post(reverse("login"), {"username": "ann@example.test", "password": NEW_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# Rejecting ---------------------------------------------------------------------------------------


def test_opening_the_reject_link_changes_nothing(sign_up, client, mailoutbox):
    sign_up()
    response = client.get(links(mailoutbox[0])["reject"])

    assert response.status_code == 200
    assert "Delete this sign-up" in response.content.decode()
    assert User.objects.exists()


def test_rejecting_deletes_the_unconfirmed_account_at_once(sign_up, client, mailoutbox):
    sign_up()
    user = User.objects.get()
    found = links(mailoutbox[0])

    response = client.post(found["reject"])

    assert response.status_code == 200
    assert "The sign-up is deleted" in response.content.decode()
    assert not User.objects.filter(pk=user.pk).exists()
    assert not PolicyAcceptance.objects.filter(user_id=user.pk).exists()
    (event,) = events(audit_actions.ACCOUNT_SIGNUP_REJECTED)
    assert (event.actor_id, event.workspace_id, event.target_id) == (None, None, str(user.pk))
    assert_no_secrets(event, "ann@example.test", *found.values())

    # The confirm link of a deleted sign-up says so and creates nothing.
    dead = client.post(found["confirm"])
    assert dead.status_code == 400
    assert str(signup.LINK_USED) in dead.content.decode()
    assert not User.objects.exists()


def test_a_confirmed_account_is_not_deleted_by_the_reject_link(sign_up, client, mailoutbox):
    sign_up()
    found = links(mailoutbox[0])
    client.post(found["confirm"], {"password": NEW_PASSWORD})

    response = client.post(found["reject"])

    assert response.status_code == 400
    assert str(signup.CANNOT_REJECT_CONFIRMED) in response.content.decode()
    assert User.objects.filter(is_active=True).exists()
    assert not events(audit_actions.ACCOUNT_SIGNUP_REJECTED)


# Broken links ------------------------------------------------------------------------------------


def _pending_user():
    return UserFactory(email="pending@example.test", is_active=False, email_confirmed_at=None)


@pytest.mark.parametrize(
    "salt,url_name", [(signup.CONFIRM_SALT, "signup_confirm"), (signup.REJECT_SALT, "signup_reject")]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_expired_links_give_a_clear_page_and_change_nothing(client, settings, salt, url_name, method):
    user = _pending_user()
    long_ago = timezone.now().timestamp() - (settings.SIGNUP_CONFIRMATION_HOURS + 1) * 3600
    with mock.patch("time.time", return_value=long_ago):
        token = signup.signup_token_make(user=user, salt=salt)

    response = getattr(client, method)(reverse(url_name, args=[token]))

    assert response.status_code == 400
    assert signup.LINK_EXPIRED.format(hours=settings.SIGNUP_CONFIRMATION_HOURS) in response.content.decode()
    user.refresh_from_db()
    assert (user.is_active, user.email_confirmed_at) == (False, None)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_tampered_links_give_a_clear_page_and_change_nothing(client, method):
    user = _pending_user()
    token = signup.signup_token_make(user=user, salt=signup.CONFIRM_SALT)
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    # A confirm token does not work as a reject token either.
    for url in (reverse("signup_confirm", args=[tampered]), reverse("signup_reject", args=[token])):
        response = getattr(client, method)(url)
        assert response.status_code == 400
        assert str(signup.LINK_INVALID) in response.content.decode()
    user.refresh_from_db()
    assert (user.is_active, user.email_confirmed_at) == (False, None)
    assert not AuditEvent.objects.exists()


def test_a_token_for_another_account_with_the_same_id_does_not_work(client):
    user = _pending_user()
    token = signup.signup_token_make(user=user, salt=signup.CONFIRM_SALT)
    User.objects.filter(pk=user.pk).update(email="someone-else@example.test")

    response = client.post(reverse("signup_confirm", args=[token]))

    assert response.status_code == 400
    assert str(signup.LINK_USED) in response.content.decode()


# Existing addresses ----------------------------------------------------------------------------------


def test_signing_up_with_a_taken_address_does_not_reveal_it(sign_up, client, mailoutbox):
    owner = UserFactory(email="owner@example.test")
    fresh = sign_up(email="newcomer@example.test")
    fresh_page = client.get(fresh["Location"]).content.decode()
    mailoutbox.clear()
    signups_before = len(events(audit_actions.ACCOUNT_SIGNUP))

    taken = sign_up(email="Owner@Example.test", name="Mallory", password="another-long-pass-99")
    taken_page = client.get(taken["Location"]).content.decode()

    assert taken.status_code == fresh.status_code == 302
    assert taken["Location"] == fresh["Location"]
    # Every page's language switcher carries a CSRF token, masked afresh on each response.
    unmasked = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    taken_page, fresh_page = (unmasked.sub("", page) for page in (taken_page, fresh_page))
    assert taken_page.replace("owner@example.test", "X") == fresh_page.replace("newcomer@example.test", "X")
    owner.refresh_from_db()
    assert owner.display_name != "Mallory"
    assert owner.check_password(PASSWORD)
    assert User.objects.filter(email__iexact="owner@example.test").count() == 1
    assert not PolicyAcceptance.objects.filter(user=owner).exists()
    assert len(events(audit_actions.ACCOUNT_SIGNUP)) == signups_before
    # The owner hears about it; the email holds no confirmation link.
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["owner@example.test"]
    assert "already have an account" in mailoutbox[0].body
    assert links(mailoutbox[0]) == {}


def test_signing_up_again_while_pending_replaces_the_pending_signup(sign_up, mailoutbox):
    sign_up()
    sign_up(name="Someone Else", password="another-long-pass-99")

    # The newest sign-up's name and password; tests/privacy/test_signup_takeover.py plays it out.
    user = User.objects.get()
    assert user.display_name == "Someone Else"
    assert user.check_password("another-long-pass-99")
    assert len(mailoutbox) == 2
    assert set(links(mailoutbox[1])) == {"confirm", "reject"}
    assert len(events(audit_actions.ACCOUNT_SIGNUP)) == 1
    assert len(events(audit_actions.ACCOUNT_SIGNUP_REPLACED)) == 1


# Purging -------------------------------------------------------------------------------------------


def test_purge_deletes_only_old_never_confirmed_never_used_signups(workspace, settings, capsys):
    hours = settings.SIGNUP_CONFIRMATION_HOURS
    old = timezone.now() - timedelta(hours=hours + 1)
    young = timezone.now() - timedelta(hours=hours - 1)
    doomed = UserFactory(is_active=False, email_confirmed_at=None, date_joined=old)
    kept = [
        UserFactory(is_active=False, email_confirmed_at=None, date_joined=young),
        UserFactory(is_active=True, date_joined=old),
        UserFactory(is_active=False, date_joined=old),  # confirmed, later deactivated
        UserFactory(is_active=False, email_confirmed_at=None, date_joined=old, last_login=old),
        MembershipFactory(
            workspace=workspace, user=UserFactory(is_active=False, email_confirmed_at=None, date_joined=old)
        ).user,
    ]

    call_command("purge_unconfirmed_signups")

    assert "Deleted 1 unconfirmed sign-up." in capsys.readouterr().out
    assert not User.objects.filter(pk=doomed.pk).exists()
    assert set(User.objects.values_list("pk", flat=True)) == {u.pk for u in kept}
    (event,) = events(audit_actions.ACCOUNT_SIGNUPS_PURGED)
    assert event.detail == {"count": 1}
    assert (event.workspace_id, event.actor_id, event.target_id) == (None, None, "")

    # Nothing left to purge: nothing deleted, nothing audited.
    assert purge_unconfirmed_signups.delay().get() == 0
    assert len(events(audit_actions.ACCOUNT_SIGNUPS_PURGED)) == 1


def test_purge_task_deletes_expired_signups(settings):
    old = timezone.now() - timedelta(hours=settings.SIGNUP_CONFIRMATION_HOURS, minutes=1)
    UserFactory.create_batch(2, is_active=False, email_confirmed_at=None, date_joined=old)

    assert purge_unconfirmed_signups.delay().get() == 2
    assert not User.objects.exists()
    assert (
        settings.CELERY_BEAT_SCHEDULE["purge-unconfirmed-signups"]["task"] == purge_unconfirmed_signups.name
    )


def test_a_mail_failure_keeps_the_signup_and_logs_no_address_or_token(sign_up, caplog):
    import smtplib

    refused = smtplib.SMTPRecipientsRefused({"ann@example.test": (550, b"no such user")})
    with mock.patch("helpdesk.outbound.EmailMultiAlternatives.send", side_effect=refused):
        response = sign_up()

    assert response["Location"] == reverse("signup_sent")
    assert User.objects.filter(email="ann@example.test", is_active=False).exists()
    assert "SMTPRecipientsRefused" in caplog.text
    assert "ann@example.test" not in caplog.text
    assert "/accounts/signup/confirm/" not in caplog.text


def test_the_age_box_must_be_ticked_and_the_rest_of_the_form_is_kept(sign_up, mailoutbox):
    response = sign_up(age_confirmed="")

    assert response.status_code == 200
    html = response.content.decode()
    assert str(AGE_REQUIRED).replace("'", "&#x27;") in html
    assert 'value="ann@example.test"' in html and 'value="Ann Example"' in html
    assert not User.objects.exists()
    assert mailoutbox == []


def test_the_age_confirmation_is_kept_with_the_consents_and_exported(sign_up, policies):
    sign_up()
    user = User.objects.get(email="ann@example.test")
    consent = Consent.objects.get(user=user, purpose=AGE_CONFIRMED)
    assert consent.granted and consent.source == ConsentSource.SIGNUP
    assert consent.policy_id == policies.privacy.pk
    assert events(audit_actions.ACCOUNT_SIGNUP)[0].detail["age_confirmed"] is True
    assert [c["purpose"] for c in export_consents(ExportContext(user=user, now=timezone.now()))] == [
        AGE_CONFIRMED
    ]


def test_the_privacy_policy_names_complaints_children_and_the_contact(client, policies, settings):
    settings.PRIVACY_CONTACT_EMAIL = "privacy@operator.example"
    html = client.get(reverse("policy", args=["privacy"])).content.decode()
    assert "data-protection authority" in html
    assert "at least 16 years old" in html
    assert "administrators answer for the data" in html
    assert 'href="mailto:privacy@operator.example"' in html
