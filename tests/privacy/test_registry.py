"""The personal-data registry (DESIGN.md principle 3): nothing personal can be forgotten."""

from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from privacy.account.export import write_archive
from privacy.personal_data import registry
from tests.factories import UserFactory
from tests.privacy.selfservice_support import export_data

DOCS = Path(__file__).resolve().parents[2] / "docs" / "personal-data.md"


def test_every_model_with_a_user_reference_email_ip_or_free_text_is_registered():
    assert registry.unregistered_models() == {}


def test_an_unregistered_personal_model_is_caught(monkeypatch):
    from tickets.models import Message

    trimmed = {k: v for k, v in registry._REGISTRY.items() if k != "tickets.Message"}
    monkeypatch.setattr(registry, "_REGISTRY", trimmed)
    missing = registry.unregistered_models()
    assert "tickets.Message" in missing
    assert "author (user reference)" in missing["tickets.Message"]
    assert "body (free text)" in missing["tickets.Message"]
    with pytest.raises(LookupError, match="tickets.Message is not in the personal-data registry"):
        registry.entry_for(Message)


def test_a_choices_field_is_not_free_text_but_a_plain_charfield_is():
    from tickets.models import Ticket

    free = registry.free_text_fields(Ticket)
    assert "subject" in free
    assert "status" not in free and "priority" not in free


def test_the_allow_list_names_real_models_with_reasons():
    for label, reason in registry.NON_PERSONAL_MODELS.items():
        assert apps.get_model(label) is not None
        assert len(reason) > 10
        assert label not in registry._REGISTRY, f"{label} is both registered and allow-listed"


@pytest.mark.parametrize("entry", registry.entries(), ids=lambda e: e.label)
def test_declarations_name_real_fields_and_resolvable_erasers(entry):
    names = {f.name for f in entry.model._meta.get_fields()}
    for field in (*entry.fields, *entry.secret_fields, *entry.mentions):
        assert field in names, f"{entry.label}.{field} does not exist"
    for lookup in entry.subject:
        assert lookup.split("=")[0].split("__")[0].removesuffix("_id") in names | {"id"}
    if entry.erase not in (registry.DELETE, registry.KEEP):
        assert callable(entry.eraser())
    # Email and IP columns are always personal: they must be declared.
    for f in entry.model._meta.concrete_fields:
        if isinstance(f, (models.EmailField, models.GenericIPAddressField)):
            assert f.name in entry.fields or f.name in entry.secret_fields, f"{entry.label}.{f.name}"


def test_every_export_section_of_the_registry_is_written(db, tmp_path):
    user = UserFactory()
    with open(tmp_path / "x.zip", "w+b") as out:
        write_archive(user, out)
        out.seek(0)
        data = export_data(out.read())
    assert data["schema_version"] == 1
    for section in registry.export_sections():
        assert section in data, f"export section {section!r} is declared but not written"


def test_the_registry_is_documented():
    text = DOCS.read_text()
    for entry in registry.entries():
        assert f"`{entry.label}`" in text, f"{entry.label} is missing from docs/personal-data.md"
    for label in registry.NON_PERSONAL_MODELS:
        assert f"`{label}`" in text, f"{label} is missing from docs/personal-data.md"
