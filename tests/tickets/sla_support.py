"""Helpers of the service-level tests (not a test module)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets.models import SlaPolicy

ROUND_THE_CLOCK = [[0, 24 * 60]] * 7


def policy_for(workspace, **targets) -> SlaPolicy:
    """An active 24/7 UTC policy: 1h first response, 8h resolution for normal tickets, 15 min /
    2h for urgent ones, unless ``targets`` say otherwise."""
    values = {
        "normal_first_response": 60,
        "normal_resolution": 8 * 60,
        "urgent_first_response": 15,
        "urgent_resolution": 2 * 60,
        "weekly_hours": ROUND_THE_CLOCK,
        "time_zone": "UTC",
        **targets,
    }
    return SlaPolicy.objects.create(workspace=workspace, **values)


class Clock:
    """``timezone.now`` for the services and tickets/sla.py, moved by hand."""

    def __init__(self, monkeypatch):
        self.now = timezone.now().replace(microsecond=0)
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)
