"""The audit log's filter form (GET): every field optional, dates are UTC days."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.audit.actions import ACTION_CHOICES
from privacy.audit.selectors import AuditFilters

DATE_ORDER_ERROR = _("The “from” date must be on or before the “to” date.")
# The log cannot hold events from before the product existed or from centuries ahead; dates out
# there are typing slips (or probes: 9999-12-31 + 1 day overflows).
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)
DATE_RANGE_ERROR = _("Choose a date between 1 January 2000 and 31 December 2099.")
CURSOR_ERROR = _("That page link is not valid; showing the newest events.")
DATE_WIDGET = forms.DateInput(
    attrs={"type": "date", "min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()}
)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Actor email"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Any action")), *ACTION_CHOICES]
    )
    target_type = forms.CharField(label=_("Target type"), required=False, max_length=64)
    target_id = forms.CharField(label=_("Target id"), required=False, max_length=64)
    date_from = forms.DateField(label=_("From (UTC)"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("To (UTC)"), required=False, widget=DATE_WIDGET)

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day is not None and not DATE_MIN <= day <= DATE_MAX:
            raise forms.ValidationError(DATE_RANGE_ERROR, code="out_of_range")
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", DATE_ORDER_ERROR)
        return cleaned

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            actor_email=data.get("actor", "").strip(),
            action=data.get("action", ""),
            target_type=data.get("target_type", "").strip(),
            target_id=data.get("target_id", "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def parse_cursor(value: str | None) -> int | None:
    """A keyset cursor from the query string: a positive id, or None (bad values included)."""
    if not value:
        return None
    if not value.isdigit() or len(value) > 19:
        raise ValueError(CURSOR_ERROR)
    number = int(value)
    if number <= 0:
        raise ValueError(CURSOR_ERROR)
    return number
