"""The reports dashboard's filters: a period and one of the member's queues."""

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.reports import DEFAULT_PERIOD, PERIODS

EARLIEST = date(2000, 1, 1)
END_OUT_OF_RANGE = _("Choose a day between 1 January 2000 and today.")
PERIOD_LABELS = {7: _("Last 7 days"), 30: _("Last 30 days"), 90: _("Last 90 days")}


class ReportFilterForm(forms.Form):
    period = forms.TypedChoiceField(
        label=_("Period"),
        choices=[(p, PERIOD_LABELS[p]) for p in PERIODS],
        coerce=int,
        required=False,
        # Shown selected on a first visit, which shows the default period's figures.
        initial=DEFAULT_PERIOD,
    )
    # A past period (a quarter that ended, say); empty: up to today.
    end = forms.DateField(
        label=_("Ending on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    queue = forms.TypedChoiceField(label=_("Queue"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, queues, **kwargs):
        super().__init__(*args, **kwargs)
        # The queues already read for the page: choosing one costs no query.
        self.queues = {q.pk: q for q in queues}
        self.fields["queue"].choices = [("", _("All my queues")), *((q.pk, q.name) for q in queues)]

    def clean_end(self):
        end = self.cleaned_data.get("end")
        if end is not None and not EARLIEST <= end <= timezone.localdate():
            raise forms.ValidationError(END_OUT_OF_RANGE)
        return end

    def chosen(self) -> tuple[int, date | None, object | None]:
        """The period (days), its last day (None: today) and the queue to show; the defaults for
        anything not valid."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        days = data.get("period") or DEFAULT_PERIOD
        queue_id = data.get("queue")
        return days, data.get("end"), self.queues.get(queue_id) if queue_id is not None else None
