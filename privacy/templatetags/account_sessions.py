"""The account page's "Where you are signed in" section, as its own tag so the page's view and
its other sections stay as they are."""

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from workspaces.sessions import services as session_services
from workspaces.sessions.devices import UNKNOWN_BROWSER, place_label
from workspaces.sessions.services import last_seen_interval

register = template.Library()


@register.inclusion_tag("privacy/_account_sessions.html", takes_context=True)
def account_sessions_section(context):
    """The signed-in person's sessions, this device first (three queries whatever their number;
    sessions gone from the store are dropped on the way)."""
    request = context["request"]
    rows = session_services.sessions_listed(user=request.user, current_key=request.session.session_key)
    now, interval = timezone.now(), last_seen_interval()
    recent = f"active in the last {timesince(now - interval, now)}"
    for row in rows:
        row.place = place_label(row.network)
        row.device_label = row.device or UNKNOWN_BROWSER
        # "Last seen" is only as exact as the interval it is written at.
        if row.is_current:
            row.seen_label = "active now"
        elif now - row.last_seen_at < interval:
            row.seen_label = recent
        else:
            row.seen_label = f"last seen {timesince(row.last_seen_at, now)} ago"
    # Django hands the page's csrf_token to an inclusion tag's template itself.
    return {"sessions": rows, "others": sum(1 for row in rows if not row.is_current)}
