"""The audit log's filter form (GET): every field optional, dates are UTC days."""

from django import forms

from privacy.audit.actions import ACTION_CHOICES
from privacy.audit.selectors import AuditFilters

DATE_ORDER_ERROR = "The “from” date must be on or before the “to” date."
CURSOR_ERROR = "That page link is not valid; showing the newest events."


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label="Actor email",
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    action = forms.ChoiceField(label="Action", required=False, choices=[("", "Any action"), *ACTION_CHOICES])
    target_type = forms.CharField(label="Target type", required=False, max_length=64)
    target_id = forms.CharField(label="Target id", required=False, max_length=64)
    date_from = forms.DateField(
        label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label="To (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

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
