"""The "Service levels" admin form: targets per priority, weekly hours, holidays, time zone.

Targets are typed as durations of business time: "1h", "4h 30m", "45m", or a bare number of
minutes. A day's hours are an opening and a closing time; both empty is a closed day, and a
closing time of 00:00 means midnight (open to the end of the day). Holidays are dates, one a line.
"""

import re
import zoneinfo
from datetime import date
from functools import lru_cache

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.business_hours import MINUTES_PER_DAY
from tickets.models import Priority, SlaPolicy

DAYS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
]
TARGET_KINDS = (("first_response", _("First response")), ("resolution", _("Resolution")))
# A year of round-the-clock business time: beyond it a target means nothing.
MAX_TARGET_MINUTES = 365 * MINUTES_PER_DAY
MAX_HOLIDAYS = 400

BAD_DURATION = _("Write a duration such as 1h, 4h 30m or 45m (or leave it empty for no target).")
DURATION_RANGE = _("A target must be between 1 minute and 365 days.")
BOTH_TIMES = _("Give both an opening and a closing time, or leave both empty for a closed day.")
CLOSE_AFTER_OPEN = _("The closing time must be after the opening time (00:00 means midnight).")
NO_OPEN_DAY = _("Open at least one day a week: due times are counted in business hours.")
NO_TARGET = _("Set at least one target, or turn service levels off.")
BAD_HOLIDAY = _("Line %(line)s: “%(value)s” is not a date. Write one date a line, as 2026-12-25.")
TOO_MANY_HOLIDAYS = _("At most %(limit)s holidays.")
UNKNOWN_ZONE = _("Choose a time zone from the list.")

_DURATION = re.compile(r"^\s*(?:(\d{1,6})\s*h)?\s*(?:(\d{1,6})\s*m(?:in)?)?\s*$", re.IGNORECASE)


@lru_cache(maxsize=1)
def zone_choices() -> list[tuple[str, str]]:
    names = sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")
    return [(name, name.replace("_", " ")) for name in names]


def parse_duration(text: str) -> int | None:
    """Minutes, or None for empty; raises ValidationError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        minutes = int(text)
    else:
        match = _DURATION.match(text)
        if match is None or not (match.group(1) or match.group(2)):
            raise forms.ValidationError(BAD_DURATION, code="bad_duration")
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if not 1 <= minutes <= MAX_TARGET_MINUTES:
        raise forms.ValidationError(DURATION_RANGE, code="duration_range")
    return minutes


def format_duration(minutes: int | None) -> str:
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    return " ".join(part for part in (f"{hours}h" if hours else "", f"{rest}m" if rest else "") if part)


def _clock_text(minute: int) -> str:
    hours, minutes = divmod(minute, 60)
    return f"{hours:02d}:{minutes:02d}"


def target_field(priority: str, kind: str) -> str:
    return f"{priority}_{kind}"


class SlaPolicyForm(forms.Form):
    is_active = forms.BooleanField(label=_("Service levels are on"), required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone of the business hours"), error_messages={"invalid_choice": UNKNOWN_ZONE}
    )
    holidays = forms.CharField(
        label=_("Holidays"),
        required=False,
        max_length=MAX_HOLIDAYS * 12,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Closed all day. One date a line, as 2026-12-25."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = zone_choices()
        for priority, priority_label in Priority.choices:
            for kind, kind_label in TARGET_KINDS:
                self.fields[target_field(priority, kind)] = forms.CharField(
                    label=f"{priority_label}: {kind_label}",
                    required=False,
                    max_length=20,
                    widget=forms.TextInput(attrs={"size": 8, "inputmode": "text"}),
                )
        for day, day_label in DAYS:
            for end, end_label in (("open", _("opens")), ("close", _("closes"))):
                self.fields[f"{day}_{end}"] = forms.TimeField(
                    label=f"{day_label}: {end_label}",
                    required=False,
                    widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                )
        # The page's order, which the error summary follows.
        targets = [target_field(p, k) for p, _label in Priority.choices for k, _kind in TARGET_KINDS]
        days = [f"{day}_{end}" for day, _label in DAYS for end in ("open", "close")]
        self.order_fields(["is_active", *targets, "time_zone", *days, "holidays"])

    @property
    def target_rows(self):
        """[(priority label, first response field, resolution field)] for the template."""
        return [
            (
                label,
                self[target_field(priority, "first_response")],
                self[target_field(priority, "resolution")],
            )
            for priority, label in Priority.choices
        ]

    @property
    def day_rows(self):
        return [(label, self[f"{day}_open"], self[f"{day}_close"]) for day, label in DAYS]

    @staticmethod
    def initial_from(policy) -> dict:
        """The form's values for a saved policy (or the defaults for none)."""
        policy = policy or SlaPolicy(is_active=True)
        initial = {
            "is_active": policy.is_active,
            "time_zone": policy.time_zone,
            "holidays": "\n".join(policy.holidays),
        }
        for priority, _label in Priority.choices:
            for kind, _kind_label in TARGET_KINDS:
                name = target_field(priority, kind)
                initial[name] = format_duration(getattr(policy, name))
        for (day, _label), hours in zip(DAYS, policy.weekly_hours, strict=True):
            if hours:
                initial[f"{day}_open"] = _clock_text(hours[0])
                initial[f"{day}_close"] = _clock_text(hours[1] % MINUTES_PER_DAY)
        return initial

    def clean(self):
        data = super().clean()
        targets = {}
        for priority, _label in Priority.choices:
            for kind, _kind_label in TARGET_KINDS:
                name = target_field(priority, kind)
                try:
                    targets[name] = parse_duration(data.get(name, ""))
                except forms.ValidationError as error:
                    self.add_error(name, error)
        week = []
        for day, _label in DAYS:
            opens, closes = data.get(f"{day}_open"), data.get(f"{day}_close")
            if f"{day}_open" in self.errors or f"{day}_close" in self.errors:
                week.append(None)
                continue
            if opens is None and closes is None:
                week.append(None)
                continue
            if opens is None or closes is None:
                self.add_error(f"{day}_open" if opens is None else f"{day}_close", BOTH_TIMES)
                week.append(None)
                continue
            open_minute = opens.hour * 60 + opens.minute
            close_minute = closes.hour * 60 + closes.minute or MINUTES_PER_DAY
            if close_minute <= open_minute:
                self.add_error(f"{day}_close", CLOSE_AFTER_OPEN)
                week.append(None)
                continue
            week.append([open_minute, close_minute])
        if not self.errors and data.get("is_active") and not any(week):
            self.add_error("mon_open", NO_OPEN_DAY)
        if not self.errors and data.get("is_active") and not any(targets.values()):
            self.add_error("normal_first_response", NO_TARGET)
        holidays = self._holidays(data.get("holidays", ""))
        data["targets"], data["weekly_hours"], data["holiday_dates"] = targets, week, holidays
        return data

    def _holidays(self, text: str) -> list[str]:
        days = set()
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            try:
                days.add(date.fromisoformat(line).isoformat())
            except ValueError:
                self.add_error(
                    "holidays",
                    forms.ValidationError(BAD_HOLIDAY, params={"line": number, "value": line[:20]}),
                )
                return []
        if len(days) > MAX_HOLIDAYS:
            self.add_error(
                "holidays", forms.ValidationError(TOO_MANY_HOLIDAYS, params={"limit": MAX_HOLIDAYS})
            )
        return sorted(days)

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "is_active": data["is_active"],
            "time_zone": data["time_zone"],
            **data["targets"],
            "weekly_hours": data["weekly_hours"],
            "holidays": data["holiday_dates"],
        }
