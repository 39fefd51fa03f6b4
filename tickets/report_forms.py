"""The reports dashboard's filters: a period and one of the member's queues."""

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.reports import DEFAULT_PERIOD, PERIODS

PERIOD_LABELS = {7: _("Last 7 days"), 30: _("Last 30 days"), 90: _("Last 90 days")}


class ReportFilterForm(forms.Form):
    period = forms.TypedChoiceField(
        label=_("Period"), choices=[(p, PERIOD_LABELS[p]) for p in PERIODS], coerce=int, required=False
    )
    queue = forms.TypedChoiceField(label=_("Queue"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, queues, **kwargs):
        super().__init__(*args, **kwargs)
        # The queues already read for the page: choosing one costs no query.
        self.queues = {q.pk: q for q in queues}
        self.fields["queue"].choices = [("", _("All my queues")), *((q.pk, q.name) for q in queues)]

    def chosen(self) -> tuple[int, object | None]:
        """The period (days) and queue to show: the defaults for anything not valid."""
        data = self.cleaned_data if self.is_valid() else {}
        days = data.get("period") or DEFAULT_PERIOD
        queue_id = data.get("queue")
        return days, self.queues.get(queue_id) if queue_id is not None else None
