"""The one outbound email pipeline: a text and an HTML part, Markdown rendered safely, nothing
escaped in plain text, preferences asked for optional kinds only, no address or link in logs."""

import logging
import re
import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from helpdesk import outbound
from privacy.account import profile
from privacy.account.profile import email_change_request, preferences_update
from tests.factories import UserFactory
from workspaces.models import Role
from workspaces.services import invitation_create

ALL_OFF = {name: False for name in profile.PREFERENCE_FIELDS}


def parts(message):
    """The text body and the single HTML alternative of a sent email."""
    htmls = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(htmls) == 1, "every email carries exactly one HTML part"
    assert message.body.strip(), "every email carries a text part"
    return message.body, htmls[0]


def reply_context(subject="Printer on fire"):
    return {
        "ticket": {"number": 7, "subject": subject},
        "workspace": {"name": "R&D"},
        "message": {"author": "Ann"},
        "url": "https://help.example.test/w/acme/tickets/7/",
    }


@pytest.fixture
def only_checks(monkeypatch):
    """Replace the registered preference checks for one test."""

    def install(*checks):
        monkeypatch.setattr(outbound, "_preference_checks", list(checks))

    return install


def test_an_email_has_a_text_part_and_an_html_part(db):
    sent = outbound.send(
        "ann@example.test",
        "email_changed",
        {"name": "Ann", "login_url": "https://help.example.test/accounts/login/"},
        kind=outbound.SECURITY,
    )
    assert sent is True
    [message] = mail.outbox
    assert message.to == ["ann@example.test"]
    assert message.subject == "Your Helpdesk sign-in address was changed"
    text, html = parts(message)
    assert "Hello Ann," in text and "<" not in text
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert 'href="https://help.example.test/accounts/login/"' in html


def test_markdown_is_rendered_in_the_html_part_and_kept_as_written_in_the_text(db):
    body = "We **fixed** it, see [the docs](https://example.com/docs).\n\n<script>alert('x')</script>"
    outbound.send(
        "ann@example.test",
        "ticket_reply_posted",
        reply_context(),
        kind=outbound.REPLY,
        markdown={"body": body},
    )
    [message] = mail.outbox
    text, html = parts(message)
    assert "<strong>fixed</strong>" in html
    assert 'href="https://example.com/docs"' in html
    # Raw HTML is shown as the text it is (markdown-it-py with html off), never as markup.
    assert "<script" not in html and "&lt;script&gt;alert(" in html
    assert "We **fixed** it" in text  # plain text shows what was written


def test_text_parts_and_subjects_are_not_html_escaped_but_html_parts_are(db):
    outbound.send(
        "ann@example.test",
        "ticket_reply_posted",
        reply_context(subject="Q&A <script>x</script>"),
        kind=outbound.REPLY,
        markdown={"body": "ok"},
    )
    [message] = mail.outbox
    text, html = parts(message)
    assert message.subject == "Re: [#7] Q&A <script>x</script>"
    assert '"Q&A <script>x</script>"' in text
    assert "<script>" not in html
    assert "Q&amp;A &lt;script&gt;x&lt;/script&gt;" in html
    assert "R&amp;D" not in text


def test_a_subject_in_the_context_wins_over_the_subject_template(db):
    outbound.send(
        "ann@example.test",
        "email_changed",
        {"subject": "Custom\nsubject", "name": "Ann", "login_url": "https://x.test/"},
        kind=outbound.ACCOUNT,
    )
    assert mail.outbox[0].subject == "Custom subject"


def test_unknown_kinds_are_refused():
    with pytest.raises(ValueError):
        outbound.wants("ann@example.test", "newsletter")


def test_optional_kinds_ask_the_registered_checks_and_account_kinds_do_not(db, only_checks):
    user = UserFactory()
    asked = []

    def never(recipient, kind):
        asked.append(kind)
        return False

    only_checks(never)
    assert outbound.wants(user, outbound.REPLY) is False
    assert outbound.wants(user, outbound.ASSIGNMENT) is False
    assert outbound.wants(user, outbound.ACCOUNT) is True
    assert outbound.wants(user, outbound.SECURITY) is True
    assert outbound.wants("someone@example.test", outbound.REPLY) is True  # no account, no preferences
    assert asked == [outbound.REPLY, outbound.ASSIGNMENT]
    assert outbound.send(user, "ticket_reply_posted", reply_context(), kind=outbound.REPLY) is False
    assert mail.outbox == []


def test_privacy_registers_the_notification_preferences_as_the_check(db):
    assert profile.outbound_wanted in outbound._preference_checks
    user = UserFactory()
    assert outbound.wants(user, outbound.REPLY) is True
    assert outbound.wants(user, outbound.WEEKLY_SUMMARY) is False  # off unless asked for
    preferences_update(user=user, values={"email_on_reply": False, "email_weekly_summary": True})
    assert outbound.wants(user, outbound.REPLY) is False
    assert outbound.wants(user, outbound.ASSIGNMENT) is True
    assert outbound.wants(user, outbound.WEEKLY_SUMMARY) is True


def test_account_emails_ignore_preferences(
    client, workspace, admin, queue, django_capture_on_commit_callbacks
):
    user = UserFactory()  # not yet a member of the workspace that invites them
    preferences_update(user=user, values=ALL_OFF)

    with django_capture_on_commit_callbacks(execute=True):
        email_change_request(user=user, new_email="new.address@example.test")
    client.post(reverse("password_reset"), {"email": user.email})
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            workspace=workspace, email=user.email, role=Role.AGENT, queues=[queue], actor=admin.user
        )

    assert [m.to for m in mail.outbox] == [["new.address@example.test"], [user.email], [user.email]]
    for message in mail.outbox:
        parts(message)
    _, reset_html = parts(mail.outbox[1])
    assert re.search(r'href="https?://[^"/]+/accounts/password/reset/[^"/]+/[^"/]+/"', reset_html)


def test_a_failure_is_logged_without_address_subject_or_link(db, caplog):
    user = UserFactory(email="ann@example.test")
    refused = smtplib.SMTPRecipientsRefused({"ann@example.test": (550, b"no such user")})
    with mock.patch("helpdesk.outbound.EmailMultiAlternatives.send", side_effect=refused):
        with caplog.at_level(logging.WARNING, logger="helpdesk.outbound"):
            sent = outbound.send(
                user,
                "email_change",
                {"name": "Ann", "confirm_url": "https://x.test/account/email/confirm/SECRET/", "hours": 48},
                kind=outbound.ACCOUNT,
            )
    assert sent is False
    assert "SMTPRecipientsRefused" in caplog.text and f"user {user.pk}" in caplog.text
    assert "ann@example.test" not in caplog.text
    assert "SECRET" not in caplog.text
    assert "Confirm your new email" not in caplog.text
