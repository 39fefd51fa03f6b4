"""The weekly summary email: sent once per ISO week to each active person who opted in
(``NotificationPreferences.email_weekly_summary``), never to anyone else.

Run by the beat task ``privacy.tasks.send_weekly_summaries`` (hourly: the first run of a week
sends, later ones find the week already claimed) or by hand with
``python manage.py send_weekly_summaries``. Each person's week is claimed with one conditional
UPDATE before the email is built, so two runs at once, or a re-run, never send it twice; if the
email cannot be handed to the mail server the claim is released for the next run to retry.

What the email says comes from the sections apps registered with ``helpdesk.digest`` (tickets:
open and assigned counts and the oldest waiting ticket for staff, open tickets for requesters);
it goes out through ``helpdesk.outbound`` with kind ``weekly_summary``, which asks the
preference once more at sending time.
"""

import logging

from celery import shared_task
from django.utils import timezone

from helpdesk import digest, outbound
from privacy.account.models import NotificationPreferences

logger = logging.getLogger(__name__)


def iso_week(moment) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _claim(preferences_id: int, week: str) -> bool:
    # Conditions on this one table only: PostgreSQL re-checks them on the row a concurrent run
    # just updated, so exactly one run wins. A join (user__is_active) would turn this into
    # "pk IN (subquery)", which is not re-checked, and both runs would send.
    return bool(
        NotificationPreferences.objects.filter(pk=preferences_id, email_weekly_summary=True)
        .exclude(weekly_summary_week=week)
        .update(weekly_summary_week=week)
    )


def _send_to(preferences_id: int, user, previous_week: str, week: str) -> bool:
    if not _claim(preferences_id, week):
        return False  # another run took it, or the person opted out meanwhile
    sections = digest.sections_for(user)
    if not sections:
        return False  # a member of no workspace: nothing to summarise; the week stays claimed
    sent = outbound.send(
        user, "weekly_summary", {"sections": sections, "week": week}, kind=outbound.WEEKLY_SUMMARY
    )
    if not sent:
        # Released only if still ours, so a concurrent run's claim is never undone.
        NotificationPreferences.objects.filter(pk=preferences_id, weekly_summary_week=week).update(
            weekly_summary_week=previous_week
        )
    return sent


def send_weekly_summaries(*, now=None) -> int:
    """Send this week's summary to everyone who opted in and has not had it. Returns how many
    were sent."""
    # Weeks are UTC weeks: every person's "this week" is the same one, whatever their zone.
    week = iso_week(now or timezone.now())
    due = (
        NotificationPreferences.objects.filter(email_weekly_summary=True, user__is_active=True)
        .exclude(weekly_summary_week=week)
        .select_related("user")
        .order_by("pk")
    )
    sent = 0
    for preferences in due.iterator(chunk_size=200):
        sent += _send_to(preferences.pk, preferences.user, preferences.weekly_summary_week, week)
    logger.info("Weekly summaries for %s: %d sent.", week, sent)
    return sent


@shared_task(name="privacy.tasks.send_weekly_summaries")
def send_weekly_summaries_task() -> int:
    return send_weekly_summaries()
