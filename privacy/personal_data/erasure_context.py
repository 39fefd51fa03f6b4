"""What an eraser receives. Erasers live in the apps that own the data (``tickets.personal_data``,
``workspaces.personal_data``, ``privacy.account.anonymizers``) and are registered as callables;
this module sits low enough for all of them to import it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from privacy.personal_data.pseudonyms import mention_pattern


@dataclass(frozen=True)
class HeldObjects:
    """What a legal hold keeps from erasure (privacy/retention/holds.py fills it)."""

    ticket_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()
    attachment_ids: frozenset[int] = frozenset()
    reasons: tuple[dict, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.ticket_ids or self.message_ids or self.attachment_ids)

    def ids_for(self, model) -> frozenset[int]:
        """The held primary keys of ``model`` (none for a model holds do not cover)."""
        return {
            "tickets.Ticket": self.ticket_ids,
            "tickets.Message": self.message_ids,
            "tickets.Attachment": self.attachment_ids,
        }.get(model._meta.label, frozenset())


@dataclass
class ErasureContext:
    """What every eraser needs: the person as they were before erasure, and their pseudonym."""

    user: object
    email: str
    name: str
    pseudonym: str
    staff_workspace_ids: frozenset[int]
    workspace_ids: frozenset[int]
    held: HeldObjects = field(default_factory=HeldObjects)
    counts: Counter = field(default_factory=Counter)

    @property
    def email_pattern(self) -> re.Pattern | None:
        return mention_pattern([self.email])

    @property
    def name_pattern(self) -> re.Pattern | None:
        return mention_pattern([self.name])
