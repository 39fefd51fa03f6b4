"""The personal-data registry: the single source of truth about where personal data lives.

Each model that holds personal data declares a ``PersonalData``: next to the model, or in its
app's ``personal_data`` module when its eraser is a function of that app:

- ``fields``: the columns that hold personal data (names, addresses, words, IPs, files);
- ``subject``: the lookups that tie a row to the person it belongs to: a plain lookup takes the
  user's id (``("author_id",)``); ``"<lookup>=<user attribute>"`` compares case-insensitively
  with that attribute (``"username=email"``);
- ``export``: the section of the export's ``data.json`` the rows appear in, or ``None`` with
  ``not_exported`` saying why (the app owning a section registers the exporter that writes it);
- ``erase``: what account erasure does with the person's rows - ``DELETE``, ``KEEP`` (the row
  stays, tied to the inert tombstone, and holds nothing identifying) or a function
  ``f(ctx, entry) -> dict[str, int]`` (``ctx``: ``erasure_context.ErasureContext``). A
  callable, never a dotted path: the app that owns the model passes its own function, so the
  privacy capabilities above never import a domain model;
- ``mentions``: free-text fields where *other* people may have written the person's name or
  email address; erasure replaces those mentions with the person's pseudonym;
- ``phase``: the order erasure walks the registry in (files before rows, rows before people);
- ``derived``: ``f(pks)`` that recomputes what the model stores derived from its free text (a
  message's rendered HTML), called after erasure rewrote ``mentions`` of those rows;
- ``rows``: ``f(user) -> queryset`` when ``subject`` lookups cannot say which rows are the
  person's (audit events: done by them or about them); export and the completeness test
  (tests/privacy/test_export_complete.py) use ``rows_of``, which asks it.

The owning app also registers, from its ``AppConfig.ready()``, the callables the capabilities
walk: ``register_exporter`` (one per section of the export's ``data.json``),
``register_workspace_ids`` (the workspaces a person is known in, for erasure's mentions pass),
``register_erasure_blocker`` and ``register_deactivation_hook``. Export
(privacy/account/export.py) and account erasure (privacy/account/erasure.py) reach a domain
model only through these registrations.

tests/privacy/test_registry.py walks ``django.apps.get_models()`` and fails for a model with a
user reference, an email or IP field, or free text that is neither registered nor listed in
``NON_PERSONAL_MODELS`` with a reason.

This module imports no models, so models modules can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

DELETE = "delete"
KEEP = "keep"

NOT_REGISTERED = "{label} is not in the personal-data registry: declare a PersonalData for it."
ALREADY_REGISTERED = "{label} is registered twice in the personal-data registry."
NOT_CALLABLE = (
    "erase= takes DELETE, KEEP or the eraser function itself, not {value!r}. Pass the "
    "function: the registry imports nothing by name."
)
SECTION_TAKEN = "Export section {section!r} already has an exporter."


@dataclass(frozen=True)
class PersonalData:
    fields: tuple[str, ...]
    subject: tuple[str, ...] = ()
    export: str | None = None
    not_exported: str = ""
    erase: str | Callable = KEEP
    mentions: tuple[str, ...] = ()
    # Of ``mentions``, the fields with a trigram index on ``UPPER(field)`` (PostgreSQL): erasure's
    # mentions pass finds the rows naming the people through it instead of reading the table.
    mentions_indexed: tuple[str, ...] = ()
    # ``(field, text)``: of ``mentions_indexed``, a field whose index leaves out the rows holding
    # exactly ``text`` (a partial index; a marker that names nobody). The mentions pass leaves
    # them out too, or PostgreSQL could not use the index.
    mentions_index_skips: tuple[tuple[str, str], ...] = ()
    # Personal but never exported (a password hash, a session's signed blob).
    secret_fields: tuple[str, ...] = ()
    phase: int = 50
    description: str = ""
    derived: Callable | None = None
    # ``f(user) -> queryset`` when ``subject`` lookups cannot say which rows are the person's
    # (audit events: done by them, or about them as the target). Export and the completeness
    # test use it.
    rows: Callable | None = None
    # ``f(contexts, entry) -> {user_id: counts}``: ``erase`` for many people at once, set-based
    # (a bounded number of queries per batch, not per person). It must change the same rows and
    # give each person the counts ``erase`` would, erasing them one after the other.
    erase_many: Callable | None = None
    model: type | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.export is None and not self.not_exported:
            raise ValueError("A PersonalData that is not exported must say why (not_exported=...).")
        if self.erase not in (DELETE, KEEP) and not callable(self.erase):
            raise TypeError(NOT_CALLABLE.format(value=self.erase))

    @property
    def label(self) -> str:
        return self.model._meta.label if self.model is not None else "?"

    def rows_of(self, user):
        """The rows of this model that belong to ``user`` (by the ``subject`` lookups, or the
        registered ``rows`` function)."""
        from django.db.models import Q

        if self.rows is not None:
            return self.rows(user)
        condition = Q(pk__in=[])
        for lookup in self.subject:
            if "=" in lookup:
                lookup, attribute = lookup.split("=", 1)
                condition |= Q(**{f"{lookup}__iexact": getattr(user, attribute)})
            else:
                condition |= Q(**{lookup: user.pk})
        manager = self.model._base_manager
        return (
            manager.filter(condition).distinct()
            if "__" in "".join(self.subject)
            else manager.filter(condition)
        )

    def delete_rows_of(self, user) -> int:
        """Delete ``user``'s rows of this model; returns the number deleted (cascades included)."""
        # By primary key: ``rows_of`` may be distinct(), which delete() refuses.
        return self.model._base_manager.filter(pk__in=self.rows_of(user).values("pk")).delete()[0]

    def delete_rows_of_many(self, users) -> dict[int, int]:
        """``delete_rows_of`` for several people: ``{user_id: rows deleted}``. One DELETE for
        all of them when every ``subject`` lookup is a plain column holding the user's id (the
        counts are their own rows, read grouped first); otherwise one per person."""
        users = list(users)
        plain = self.rows is None and all("=" not in s and "__" not in s for s in self.subject)
        plain = plain and bool(self.subject)
        if not plain or len(users) < 2:
            return {user.pk: self.delete_rows_of(user) for user in users}
        from django.db.models import Q

        ids = [user.pk for user in users]
        condition = Q(pk__in=[])
        for lookup in self.subject:
            condition |= Q(**{f"{lookup}__in": ids})
        manager = self.model._base_manager
        rows = list(manager.filter(condition).values_list("pk", *self.subject))
        counts = dict.fromkeys(ids, 0)
        position = {user_id: n for n, user_id in enumerate(ids)}
        for row in rows:
            # A row of two of them (``owner`` one, ``created_by`` another) counts for the one
            # erased first, as erasing them one after the other would.
            owners = [value for value in row[1:] if value in position]
            if owners:
                counts[min(owners, key=position.__getitem__)] += 1
        if rows:
            manager.filter(pk__in=[row[0] for row in rows]).delete()
        return counts

    def eraser(self) -> Callable | None:
        """The erasure function (``None`` for DELETE and KEEP)."""
        return None if self.erase in (DELETE, KEEP) else self.erase


_REGISTRY: dict[str, PersonalData] = {}

# Models with free text (or a user reference) that hold no personal data, and why. The registry
# test accepts these and nothing else unregistered.
NON_PERSONAL_MODELS: dict[str, str] = {
    "workspaces.Workspace": "An organisation's name and slug; names no person.",
    "workspaces.Queue": "Queue names chosen by admins ('Billing'); name no person.",
    "workspaces.WorkspaceSSO": "A workspace's identity provider: address, client id, encrypted secret.",
    "tickets.Mailbox": "A workspace's support address (support@...) and its IMAP settings; names no person.",
    "workspaces.QueueGroupObjectPermission": "Group grants; no person referenced.",
    "privacy.PolicyVersion": "Published policy texts, the same for everyone.",
    "privacy.AuditChainHead": "Chain bookkeeping: sequence numbers and hashes.",
    "auth.Permission": "Permission names defined by code.",
    "auth.Group": "Group names defined by admins; unused by the product.",
    "contenttypes.ContentType": "Model names defined by code.",
    "guardian.GroupObjectPermission": "Group grants; no person referenced.",
    "tickets.Tag": "Labels staff put on tickets ('billing', 'vip'); name no person.",
    "tickets.CustomField": "Definitions of ticket fields chosen by admins (label, options); name no person.",
    "tickets.SlaPolicy": "A workspace's service-level targets, opening hours, holidays and time zone.",
}


def register(model, data: PersonalData) -> PersonalData:
    """Declare ``model``'s personal data: next to the model when ``erase`` is DELETE or KEEP, or
    from the owning app's ``personal_data`` module (run by ``AppConfig.ready()``) when the eraser
    is a function of that app."""
    label = model._meta.label
    entry = PersonalData(**{**data.__dict__, "model": model})
    existing = _REGISTRY.get(label)
    if existing is not None and existing.model is not model:
        raise ValueError(ALREADY_REGISTERED.format(label=label))
    _REGISTRY[label] = entry
    return entry


def entries() -> list[PersonalData]:
    """Every registered model, in erasure order (phase, then label)."""
    return sorted(_REGISTRY.values(), key=lambda entry: (entry.phase, entry.label))


def entry_for(model) -> PersonalData:
    label = model._meta.label if not isinstance(model, str) else model
    try:
        return _REGISTRY[label]
    except KeyError:
        raise LookupError(NOT_REGISTERED.format(label=label)) from None


def is_registered(model) -> bool:
    return model._meta.label in _REGISTRY


def export_sections() -> set[str]:
    return {entry.export for entry in _REGISTRY.values() if entry.export}


# Callables the owning apps register (from AppConfig.ready()) -----------------------------------------


@dataclass(frozen=True)
class Exporter:
    """Writes one section of ``data.json``: ``rows(ctx)`` returns the section's value (a dict, a
    list, or an iterator of dicts, streamed); ``files(ctx)`` yields ``(path, open)`` for the
    files the archive carries next to it (``open()`` returns a readable binary file)."""

    section: str
    rows: Callable
    order: int
    files: Callable | None = None
    # The exporter honours ``ctx.workspace_id`` (a workspace's export of a person).
    workspace_scoped: bool = False


_EXPORTERS: dict[str, Exporter] = {}
_WORKSPACE_IDS: list[tuple[Callable, bool]] = []
_ERASURE_BLOCKERS: list[Callable] = []
_DEACTIVATION_HOOKS: list[Callable] = []


def _ensure_callable(fn, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what} takes a function, not {fn!r}.")


def register_exporter(
    section: str, rows: Callable, *, order: int, files: Callable | None = None, workspace_scoped: bool = False
) -> None:
    """The app that owns ``section``'s data writes it: ``rows(ctx)`` with an
    ``privacy.personal_data.export_context.ExportContext``. ``order`` places the section in
    ``data.json`` (docs/export-schema.md). Registering the same function again is a no-op."""
    _ensure_callable(rows, f"Exporter {section!r}")
    if files is not None:
        _ensure_callable(files, f"Exporter {section!r} files=")
    exporter = Exporter(section, rows, order, files, workspace_scoped)
    existing = _EXPORTERS.get(section)
    if existing is not None and existing != exporter:
        raise ValueError(SECTION_TAKEN.format(section=section))
    _EXPORTERS[section] = exporter


def exporters() -> list[Exporter]:
    """Every registered exporter, in ``data.json`` order."""
    return sorted(_EXPORTERS.values(), key=lambda e: (e.order, e.section))


def _register_once(hooks: list, item) -> None:
    if item not in hooks:
        hooks.append(item)


def register_workspace_ids(fn: Callable[[object], Iterable[int]], *, staff: bool = False) -> None:
    """``fn(user)`` returns ids of workspaces the person is known in (``staff=True``: where they
    act as agent or admin). Erasure scrubs the person's name from words written in those."""
    _ensure_callable(fn, "register_workspace_ids")
    _register_once(_WORKSPACE_IDS, (fn, staff))


def workspace_ids_of(user, *, staff: bool = False) -> frozenset[int]:
    ids: set[int] = set()
    for fn, is_staff in _WORKSPACE_IDS:
        if is_staff == staff:
            ids.update(fn(user))
    return frozenset(ids)


_WORKSPACE_IDS_MANY: dict[Callable, Callable] = {}


def register_workspace_ids_many(fn: Callable, many: Callable[[list], dict[int, Iterable[int]]]) -> None:
    """``many(users) -> {user_id: workspace ids}``: what the registered ``fn`` answers, for many
    people in a bounded number of queries (account erasure's batches)."""
    _ensure_callable(many, "register_workspace_ids_many")
    _WORKSPACE_IDS_MANY[fn] = many


def workspace_ids_of_many(users, *, staff: bool = False) -> dict[int, frozenset[int]]:
    """``workspace_ids_of`` for many people: ``{user_id: workspace ids}``."""
    users = list(users)
    ids: dict[int, set[int]] = {user.pk: set() for user in users}
    for fn, is_staff in _WORKSPACE_IDS:
        if is_staff != staff:
            continue
        many = _WORKSPACE_IDS_MANY.get(fn)
        if many is None:
            for user in users:
                ids[user.pk].update(fn(user))
            continue
        for user_id, found in many(users).items():
            if user_id in ids:
                ids[user_id].update(found)
    return {user_id: frozenset(found) for user_id, found in ids.items()}


def register_erasure_blocker(fn: Callable[[object], list[str]]) -> None:
    """``fn(user)`` returns why the person may not delete their account yet (empty: no reason)."""
    _ensure_callable(fn, "register_erasure_blocker")
    _register_once(_ERASURE_BLOCKERS, fn)


def erasure_blockers(user) -> list[str]:
    return [reason for fn in _ERASURE_BLOCKERS for reason in fn(user)]


def register_deactivation_hook(fn: Callable[[object], None]) -> None:
    """``fn(user)`` runs in the transaction that deactivates an account asking to be deleted."""
    _ensure_callable(fn, "register_deactivation_hook")
    _register_once(_DEACTIVATION_HOOKS, fn)


def account_deactivated(user) -> None:
    for fn in _DEACTIVATION_HOOKS:
        fn(user)


# What makes a model need a declaration ------------------------------------------------------------


def free_text_fields(model) -> list[str]:
    """TextFields and CharFields without choices: places a person can type anything."""
    from django.db import models

    names = []
    for f in model._meta.concrete_fields:
        if isinstance(f, models.TextField):
            names.append(f.name)
        elif isinstance(f, models.CharField) and not f.choices and not isinstance(f, models.EmailField):
            names.append(f.name)
    return names


def personal_markers(model) -> list[str]:
    """Why a model may hold personal data: user references, email and IP fields, free text."""
    from django.conf import settings
    from django.db import models

    user_label = settings.AUTH_USER_MODEL.lower()
    markers = []
    for f in model._meta.concrete_fields:
        if f.is_relation and f.related_model is not None and f.related_model._meta.label_lower == user_label:
            markers.append(f"{f.name} (user reference)")
        elif isinstance(f, models.EmailField):
            markers.append(f"{f.name} (email)")
        elif isinstance(f, models.GenericIPAddressField):
            markers.append(f"{f.name} (IP address)")
    markers.extend(f"{name} (free text)" for name in free_text_fields(model))
    if model._meta.label_lower == user_label:
        markers.append("the user model itself")
    return markers


def unregistered_models() -> dict[str, list[str]]:
    """Models that look personal but are neither registered nor allow-listed, with the reasons."""
    from django.apps import apps

    missing = {}
    for model in apps.get_models():
        label = model._meta.label
        if label in _REGISTRY or label in NON_PERSONAL_MODELS:
            continue
        markers = personal_markers(model)
        if markers:
            missing[label] = markers
    return missing
