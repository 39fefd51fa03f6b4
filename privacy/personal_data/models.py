"""The stable stand-in of an erased or anonymized person, shared by the audit log and every domain."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from privacy.personal_data.registry import KEEP, PersonalData, register


class Pseudonym(models.Model):
    """The stable stand-in of one erased (or anonymized) person: "Deleted user 7f3a".

    One per person, never shared: the code is unique, so the audit trail and ticket histories
    still tell erased people apart. Created on first use by
    ``privacy.personal_data.pseudonyms.pseudonym_for``.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pseudonym")
    code = models.CharField(max_length=16, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    LABEL = "Deleted user {code}"

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return self.LABEL.format(code=self.code)


register(
    Pseudonym,
    PersonalData(
        fields=("code",),
        subject=("user_id",),
        not_exported="Created when the person is erased; an erased person cannot ask for an export.",
        erase=KEEP,
        phase=99,
    ),
)
