"""The personal-data registry: the single source of truth about where personal data lives.

Each model that holds personal data declares, next to the model, a ``PersonalData``:

- ``fields``: the columns that hold personal data (names, addresses, words, IPs, files);
- ``subject``: the lookups that tie a row to the person it belongs to: a plain lookup takes the
  user's id (``("author_id",)``); ``"<lookup>=<user attribute>"`` compares case-insensitively
  with that attribute (``"username=email"``);
- ``export``: the section of the export's ``data.json`` the rows appear in, or ``None`` with
  ``not_exported`` saying why (privacy/account/export.py writes one section per key);
- ``erase``: what account erasure does with the person's rows - ``DELETE``, ``KEEP`` (the row
  stays, tied to the inert tombstone, and holds nothing identifying) or the dotted path of a
  function ``f(ctx) -> int`` (privacy/account/anonymizers.py);
- ``mentions``: free-text fields where *other* people may have written the person's name or
  email address; erasure replaces those mentions with the person's pseudonym;
- ``phase``: the order erasure walks the registry in (files before rows, rows before people).

Export (privacy/account/export.py), account erasure (privacy/account/erasure.py) and retention (issue 7) all
walk this registry. tests/privacy/test_registry.py walks ``django.apps.get_models()`` and fails
for a model with a user reference, an email or IP field, or free text that is neither
registered nor listed in ``NON_PERSONAL_MODELS`` with a reason.

This module imports no models, so models modules can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

DELETE = "delete"
KEEP = "keep"

NOT_REGISTERED = "{label} is not in the personal-data registry: declare PersonalData next to the model."
ALREADY_REGISTERED = "{label} is registered twice in the personal-data registry."


@dataclass(frozen=True)
class PersonalData:
    fields: tuple[str, ...]
    subject: tuple[str, ...] = ()
    export: str | None = None
    not_exported: str = ""
    erase: str = KEEP
    mentions: tuple[str, ...] = ()
    # Personal but never exported (a password hash, a session's signed blob).
    secret_fields: tuple[str, ...] = ()
    phase: int = 50
    description: str = ""
    model: type | None = field(default=None, compare=False)

    def __post_init__(self):
        if self.export is None and not self.not_exported:
            raise ValueError("A PersonalData that is not exported must say why (not_exported=...).")

    @property
    def label(self) -> str:
        return self.model._meta.label if self.model is not None else "?"

    def rows_of(self, user):
        """The rows of this model that belong to ``user`` (by the ``subject`` lookups)."""
        from django.db.models import Q

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

    def eraser(self):
        """The erasure function for a dotted ``erase`` path (``None`` for DELETE and KEEP)."""
        if self.erase in (DELETE, KEEP):
            return None
        module, _, name = self.erase.rpartition(".")
        return getattr(import_module(module), name)


_REGISTRY: dict[str, PersonalData] = {}

# Models with free text (or a user reference) that hold no personal data, and why. The registry
# test accepts these and nothing else unregistered.
NON_PERSONAL_MODELS: dict[str, str] = {
    "workspaces.Workspace": "An organisation's name and slug; names no person.",
    "workspaces.Queue": "Queue names chosen by admins ('Billing'); name no person.",
    "workspaces.QueueGroupObjectPermission": "Group grants; no person referenced.",
    "privacy.PolicyVersion": "Published policy texts, the same for everyone.",
    "privacy.AuditChainHead": "Chain bookkeeping: sequence numbers and hashes.",
    "auth.Permission": "Permission names defined by code.",
    "auth.Group": "Group names defined by admins; unused by the product.",
    "contenttypes.ContentType": "Model names defined by code.",
    "guardian.GroupObjectPermission": "Group grants; no person referenced.",
}


def register(model, data: PersonalData) -> PersonalData:
    """Declare ``model``'s personal data. Call it in the models module, next to the model."""
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
