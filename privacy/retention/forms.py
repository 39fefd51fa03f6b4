"""Forms of the retention settings and legal-hold pages (issue 7)."""

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.personal_data.retention_kinds import retention_kinds
from privacy.retention.models import AttachmentBasis, ErasureFiles, HoldScope, TicketAction
from privacy.retention.policies import MAX_DAYS, days_fields, policy_version

DAYS_REQUIRED = _("Enter a number of days, or tick “Keep forever”.")
DAYS_RANGE = f"Enter a whole number of days from 1 to {MAX_DAYS}."


class RetentionForm(forms.Form):
    """One "keep forever" box and one number of days per kind, plus the ticket action and the
    attachments' starting point. ``cleaned_data["values"]`` holds the policy fields."""

    tickets_action = forms.ChoiceField(
        label=_("When a closed ticket expires"), choices=TicketAction.choices, widget=forms.RadioSelect
    )
    attachments_basis = forms.ChoiceField(label=_("Count attachments"), choices=AttachmentBasis.choices)
    erasure_files = forms.ChoiceField(
        label=_("When a deleted account may be named in a file erasure cannot rewrite"),
        choices=ErasureFiles.choices,
        widget=forms.RadioSelect,
        # Absent from a post (an older page): the setting stays as it is.
        required=False,
        help_text=_(
            "Text files on the person's tickets are rewritten with their pseudonym. PDFs, office "
            "documents and other files that may name them are either listed in the audit log for "
            "your staff to check, or deleted."
        ),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # ``policy_version`` of the settings the page showed (issue 17: no silent overwrite).
    seen = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in retention_kinds():
            self.fields[f"{kind.name}_forever"] = forms.BooleanField(
                label=_("Keep forever"),
                required=False,
                widget=forms.CheckboxInput(attrs={"aria-label": f"{kind.label}: keep forever"}),
            )
            self.fields[f"{kind.name}_days"] = forms.IntegerField(
                label=f"{kind.label}: days",
                required=False,
                min_value=1,
                max_value=MAX_DAYS,
                help_text=kind.help,
                error_messages={"min_value": DAYS_RANGE, "max_value": DAYS_RANGE, "invalid": DAYS_RANGE},
                widget=forms.NumberInput(
                    attrs={
                        "inputmode": "numeric",
                        "class": "days-input",
                        "aria-label": f"{kind.label}: days",
                    }
                ),
            )

    @staticmethod
    def initial_for(policy) -> dict:
        initial = {
            "tickets_action": policy.tickets_action,
            "attachments_basis": policy.attachments_basis,
            "erasure_files": policy.erasure_files,
            "seen": policy_version(policy),
        }
        for kind, name in days_fields().items():
            days = getattr(policy, name)
            initial[f"{kind}_forever"] = days is None
            initial[f"{kind}_days"] = days
        return initial

    def kind_fields(self):
        """(kind, label, forever field, days field) for the template's table."""
        return [
            (kind.name, kind.label, self[f"{kind.name}_forever"], self[f"{kind.name}_days"])
            for kind in retention_kinds()
        ]

    def clean(self):
        data = super().clean()
        values = {
            "tickets_action": data.get("tickets_action"),
            "attachments_basis": data.get("attachments_basis"),
        }
        if data.get("erasure_files"):
            values["erasure_files"] = data["erasure_files"]
        for kind, name in days_fields().items():
            if data.get(f"{kind}_forever"):
                values[name] = None
            elif data.get(f"{kind}_days") is None:
                if f"{kind}_days" not in self.errors:
                    self.add_error(f"{kind}_days", DAYS_REQUIRED)
            else:
                values[name] = data[f"{kind}_days"]
        data["values"] = values
        return data


class LegalHoldForm(forms.Form):
    scope = forms.ChoiceField(label=_("What to keep"), choices=HoldScope.choices, widget=forms.RadioSelect)
    email = forms.EmailField(
        label=_("Person's email address"),
        required=False,
        help_text=_("For a hold on a person: a member of this workspace or someone on one of its tickets."),
    )
    ticket_number = forms.IntegerField(label=_("Ticket number"), required=False, min_value=1)
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The case, order or request that requires keeping the data. Shown to admins."),
    )
    ends_on = forms.DateField(
        label=_("Ends on (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to keep the hold until someone releases it."),
    )

    def ends_at(self):
        day = self.cleaned_data.get("ends_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.max.replace(microsecond=0)))
