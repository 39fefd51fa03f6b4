"""The account page and profile correction: name, language, time zone, notifications, and an
email change that takes effect only through the link sent to the new address."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from privacy.account.forms import NAME_REQUIRED, WRONG_PASSWORD
from privacy.account.models import EmailChange
from privacy.account.profile import (
    EMAIL_LINK_EXPIRED,
    EMAIL_LINK_INVALID,
    EMAIL_SAME,
    notification_wanted,
)
from privacy.account.views import EMAIL_SENT, PROFILE_SAVED
from privacy.audit.models import AuditEvent
from tests.factories import PASSWORD
from tests.privacy.selfservice_support import _fresh_policy_cache  # noqa: F401
from workspaces.models import User


def test_account_page_lives_at_slash_account_and_needs_sign_in(client, requester):
    assert reverse("account") == "/account/"
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(requester.user)
    page = client.get("/account/").content.decode()
    for section in (
        "Profile",
        "Email address",
        "Notifications",
        "Privacy choices",
        "Download my data",
        "Delete my account",
        "Recent security activity",
    ):
        assert section in page
    assert requester.user.email in page


def test_account_page_query_count(client, requester, django_assert_max_num_queries):
    client.force_login(requester.user)
    client.get("/account/")
    # 14 for the page, 1 for the two-factor panel, 2 for "Where you are signed in" (the rows, and
    # which sessions still live).
    with django_assert_max_num_queries(17):
        assert client.get("/account/").status_code == 200


def test_profile_correction_is_saved_and_audited(client, requester):
    # A language saved before only translated languages were offered is corrected to one that is.
    User.objects.filter(pk=requester.user.pk).update(language="fr")
    client.force_login(requester.user)
    response = client.post(
        "/account/profile/",
        {
            "profile-display_name": "Ada Lovelace",
            "profile-language": "en",
            "profile-time_zone": "Europe/Paris",
        },
        follow=True,
    )
    assert PROFILE_SAVED in response.content.decode()
    user = User.objects.get(pk=requester.user.pk)
    assert (user.display_name, user.language, user.time_zone) == ("Ada Lovelace", "en", "Europe/Paris")
    event = AuditEvent.objects.get(action="account.updated", actor=user)
    assert event.detail == {"fields": ["display_name", "language", "time_zone"]}
    assert "Ada" not in str(event.detail)


def test_bad_profile_input_keeps_what_was_typed(client, requester):
    client.force_login(requester.user)
    response = client.post(
        "/account/profile/",
        {"profile-display_name": "", "profile-language": "en", "profile-time_zone": "Mars/Olympus"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert NAME_REQUIRED in page
    assert "Select a valid choice" in page
    assert 'value="en" selected' in page
    assert User.objects.get(pk=requester.user.pk).time_zone != "Mars/Olympus"


def test_only_languages_the_interface_speaks_are_offered(client, requester, settings, tmp_path):
    client.force_login(requester.user)
    page = client.get("/account/").content.decode()
    assert 'value="en"' in page and 'value="fr"' not in page and 'value="de"' not in page
    refused = client.post(
        "/account/profile/",
        {"profile-display_name": "Ada", "profile-language": "fr", "profile-time_zone": "UTC"},
    )
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert User.objects.get(pk=requester.user.pk).language == "en"

    # Once a French translation is compiled into locale/, French is offered.
    (tmp_path / "locale" / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.mo").write_bytes(b"")
    settings.BASE_DIR = tmp_path
    assert 'value="fr"' in client.get("/account/").content.decode()


def test_email_change_waits_for_the_link_sent_to_the_new_address(
    client, requester, django_capture_on_commit_callbacks
):
    user = requester.user
    old = user.email
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/account/email/",
            {"email-new_email": "New.Address@Example.test", "email-password": PASSWORD},
            follow=True,
        )
    assert EMAIL_SENT.format(email="new.address@example.test") in response.content.decode()
    assert User.objects.get(pk=user.pk).email == old  # not yet
    [message] = mail.outbox
    assert message.to == ["new.address@example.test"]
    path = re.search(r"/account/email/confirm/\S+/", message.body).group(0)
    assert "Waiting for confirmation" in client.get("/account/").content.decode()
    # Opening the link shows a button; GET changes nothing.
    page = client.get(path)
    assert page.status_code == 200 and "Use this address" in page.content.decode()
    assert User.objects.get(pk=user.pk).email == old
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path)
    assert User.objects.get(pk=user.pk).email == "new.address@example.test"
    assert mail.outbox[-1].to == [old]  # the old address is told
    assert AuditEvent.objects.filter(action="account.email_changed", actor=user).count() == 1
    # Single use.
    assert EMAIL_LINK_EXPIRED in client.post(path).content.decode()


def test_email_change_refusals(client, requester):
    # A taken address is not refused here: tests/privacy/test_email_change_disclosure.py.
    client.force_login(requester.user)
    cases = [
        ({"email-new_email": "x@example.test", "email-password": "wrong"}, WRONG_PASSWORD),
        ({"email-new_email": requester.user.email, "email-password": PASSWORD}, EMAIL_SAME),
    ]
    for data, message in cases:
        response = client.post("/account/email/", data)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not EmailChange.objects.exists()
    assert client.get("/account/email/confirm/not-a-token/").content.decode().count(EMAIL_LINK_INVALID) == 1


def test_a_newer_request_replaces_the_older_and_cancel_works(
    client, requester, django_capture_on_commit_callbacks
):
    client.force_login(requester.user)
    for address in ("one@example.test", "two@example.test"):
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/account/email/", {"email-new_email": address, "email-password": PASSWORD})
    assert EmailChange.objects.filter(cancelled_at__isnull=True).get().new_email == "two@example.test"
    first_link = re.search(r"/account/email/confirm/\S+/", mail.outbox[0].body).group(0)
    assert EMAIL_LINK_EXPIRED in client.get(first_link).content.decode()
    client.post("/account/email/cancel/")
    assert not EmailChange.objects.filter(cancelled_at__isnull=True).exists()


def test_notification_preferences(client, requester):
    user = requester.user
    assert notification_wanted(user, "email_on_reply") is True
    client.force_login(user)
    client.post(
        "/account/notifications/",
        {
            "notify-email_on_assignment": "on",
            "notify-email_weekly_summary": "on",
            "notify-email_on_mention": "on",
            "notify-email_delivery": "each",
        },
    )
    assert notification_wanted(user, "email_on_reply") is False
    assert notification_wanted(user, "email_weekly_summary") is True
    assert AuditEvent.objects.get(action="account.updated", actor=user).detail == {
        "notifications": {"email_on_reply": False, "email_weekly_summary": True}
    }
    with pytest.raises(ValueError):
        notification_wanted(user, "sms")


def test_get_never_changes_state(client, requester):
    client.force_login(requester.user)
    for url in ("/account/profile/", "/account/delete/", "/account/exports/", "/account/consents/"):
        assert client.get(url).status_code == 405
