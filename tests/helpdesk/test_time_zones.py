"""Times in the reader's saved zone: on pages (middleware), in live fragments and in emails."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from helpdesk import outbound
from helpdesk.timezones import override_for, zone_of
from tests.factories import UserFactory
from tests.tickets.ticket_helpers import reply
from tickets.models import Message

# 13:00 UTC in winter is 14:00 in Berlin (CET, UTC+1).
WINTER_NOON = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)


@pytest.fixture
def after_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _set_zone(membership, zone):
    membership.user.time_zone = zone
    membership.user.save(update_fields=["time_zone"])


def _reply_at(ticket, membership, when, body):
    message = reply(ticket, membership, body=body)
    Message.objects.filter(pk=message.pk).update(created_at=when)
    return message


def test_the_ticket_page_shows_times_in_the_viewers_zone(login, ticket, requester, agent):
    _set_zone(requester, "Europe/Berlin")
    _set_zone(agent, "UTC")
    _reply_at(ticket, agent, WINTER_NOON, "Looked at it")
    url = f"/w/{ticket.workspace.slug}/tickets/{ticket.number}/"

    berlin = login(requester).get(url).content.decode()
    assert "15 Jan 2026 14:00" in berlin
    assert "15 Jan 2026 13:00" not in berlin

    utc = login(agent).get(url).content.decode()
    assert "15 Jan 2026 13:00" in utc
    assert "15 Jan 2026 14:00" not in utc


def test_the_zone_does_not_leak_into_the_next_request(client, login, ticket, requester):
    _set_zone(requester, "Asia/Tokyo")
    login(requester).get(f"/w/{ticket.workspace.slug}/tickets/{ticket.number}/")
    assert timezone.get_current_timezone_name() == "UTC"


def test_an_email_shows_the_recipients_local_time(ticket, requester, agent, after_commit, mailoutbox):
    _set_zone(requester, "Europe/Berlin")
    _set_zone(agent, "UTC")
    with after_commit():
        message = reply(ticket, agent, body="On it")
    # The time the email states is the reply's own time, in the recipient's zone.
    local = timezone.localtime(message.created_at, zone_of(requester.user))
    (email,) = mailoutbox
    assert email.to == [requester.user.email]
    expected = local.strftime("%H:%M") + " " + local.tzname()
    assert expected in email.body
    assert expected in email.alternatives[0][0]


def test_an_email_is_rendered_in_the_recipients_zone_not_the_senders(db, mailoutbox):
    person = UserFactory(time_zone="Europe/Berlin")
    with timezone.override("America/New_York"):
        with override_for(person):
            shown = timezone.localtime(WINTER_NOON).strftime("%H:%M %Z")
        assert shown == "14:00 CET"
        # A bare address has no saved zone: the site's default, not the sender's.
        with override_for(None):
            assert timezone.localtime(WINTER_NOON).strftime("%H:%M") == "13:00"
        assert outbound.send(person, "password_reset", {"url": "https://x.test/r"}, kind=outbound.ACCOUNT)
        assert timezone.get_current_timezone_name() == "America/New_York"


def test_an_unknown_saved_zone_falls_back_to_the_default(login, ticket, requester):
    requester.user.time_zone = "Mars/Olympus_Mons"
    requester.user.save(update_fields=["time_zone"])  # a hand-edited row; the form only offers real zones
    assert zone_of(requester.user) is None
    response = login(requester).get(f"/w/{ticket.workspace.slug}/tickets/{ticket.number}/")
    assert response.status_code == 200
