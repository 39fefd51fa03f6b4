"""What an eraser receives. Erasers live in the apps that own the data (``tickets.personal_data``,
``workspaces.personal_data``, ``privacy.account.anonymizers``) and are registered as callables;
this module sits low enough for all of them to import it."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from privacy.personal_data.pseudonyms import mention_needles, mention_pattern


@dataclass(frozen=True)
class HeldObjects:
    """What a legal hold keeps from erasure (privacy/retention/holds.py fills it)."""

    ticket_ids: frozenset[int] = frozenset()
    message_ids: frozenset[int] = frozenset()
    attachment_ids: frozenset[int] = frozenset()
    reasons: tuple[dict, ...] = ()
    # A person hold (or a workspace hold where they are a member) keeps their export archives...
    exports: bool = False
    # ... and the audit events about them in these chains ("ws:<id>", "account").
    audit_chains: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(
            self.ticket_ids or self.message_ids or self.attachment_ids or self.exports or self.audit_chains
        )

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
    # Every earlier address and name too (privacy/account/identifiers.py): other people's words
    # and files keep the ones the person had when they were written.
    emails: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    # ``{workspace_id: "review" | "delete"}``: what to do with a file whose content erasure
    # cannot rewrite (the workspace's retention settings; "review" when absent).
    file_actions: dict = field(default_factory=dict)
    # What erasure could not remove, and why (ids and fixed reasons; never free text).
    unremoved: list = field(default_factory=list)
    # Erasing many people at once: the sessions decoded once for all of them
    # (privacy.account.anonymizers.SessionIndex); None decodes them for this person.
    session_index: object | None = None

    @property
    def all_emails(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e for e in (self.email, *self.emails) if e))

    @property
    def all_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for n in (self.name, *self.names) if n))

    @cached_property
    def mentions_email(self) -> bool:
        """Whether ``email_pattern`` looks for anything (known without compiling it)."""
        return bool(mention_needles(self.all_emails))

    @cached_property
    def mentions_name(self) -> bool:
        """Whether ``name_pattern`` looks for anything (known without compiling it)."""
        return bool(mention_needles(self.all_names))

    @property
    def mentions_anything(self) -> bool:
        return self.mentions_email or self.mentions_name

    # Compiled once per person, and only for a text that may mention them: a batch asks for
    # them in every field of every registered model, hundreds of people's patterns overflow the
    # ``re`` module's cache, and compiling every person's (6,266 patterns, 0.45 s) was 3% of a
    # retention sweep at 100,000 tickets in which no text mentioned any of them.
    @cached_property
    def email_pattern(self) -> re.Pattern | None:
        return mention_pattern(self.all_emails)

    @cached_property
    def name_pattern(self) -> re.Pattern | None:
        return mention_pattern(self.all_names)

    def file_action(self, workspace_id: int) -> str:
        return self.file_actions.get(workspace_id, "review")
