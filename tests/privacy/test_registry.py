"""The personal-data registry (DESIGN.md principle 3): nothing personal can be forgotten."""

import dataclasses
import io
import json
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models

from privacy.account.erasure import erase_account_data
from privacy.account.export import write_archive
from privacy.personal_data import registry
from privacy.personal_data.registry import PersonalData
from tests.conftest import make_member
from tests.factories import TicketFactory, UserFactory
from tests.privacy.selfservice_support import export_data, read_zip
from tickets.models import Ticket
from workspaces.models import Role

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
    if entry.erase in (registry.DELETE, registry.KEEP):
        assert entry.eraser() is None
    else:
        assert callable(entry.eraser()) and entry.eraser() is entry.erase
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


# Callables, never names ---------------------------------------------------------------------------


def test_a_dotted_path_as_eraser_is_refused():
    with pytest.raises(TypeError, match="not 'tickets.personal_data.erase_tickets'"):
        PersonalData(fields=("subject",), export="tickets", erase="tickets.personal_data.erase_tickets")


def test_registering_with_a_dotted_path_is_refused_and_leaves_the_registry_alone():
    before = registry.entry_for(Ticket)
    with pytest.raises(TypeError):
        registry.register(Ticket, dataclasses.replace(before, erase="privacy.account.anonymizers.erase_x"))
    assert registry.entry_for(Ticket) is before


def test_exporters_and_hooks_take_functions_only():
    with pytest.raises(TypeError):
        registry.register_exporter("tickets_by_name", "tickets.personal_data.export_tickets", order=1)
    with pytest.raises(TypeError):
        registry.register_workspace_ids("workspaces.personal_data.member_workspace_ids")
    with pytest.raises(TypeError):
        registry.register_erasure_blocker("workspaces.personal_data.last_admin_blockers")
    with pytest.raises(ValueError, match="already has an exporter"):
        registry.register_exporter("tickets", lambda ctx: [], order=40)


def test_every_section_is_written_by_the_exporter_registered_for_it_in_order(db):
    sections = [exporter.section for exporter in registry.exporters()]
    assert set(sections) == registry.export_sections()
    out = io.BytesIO()
    write_archive(UserFactory(), out)
    with read_zip(out.getvalue()) as archive:
        keys = list(json.loads(archive.read("data.json")))
    assert keys == ["schema_version", "generated_at", "sections", *sections]


def test_export_reaches_data_only_through_registered_exporters(db, monkeypatch):
    user = UserFactory()
    seen = []

    def gadgets(ctx):
        seen.append(ctx.user)
        yield {"gadget": "teapot", "owner": ctx.user.pk}

    monkeypatch.setattr(registry, "_EXPORTERS", dict(registry._EXPORTERS))
    registry.register_exporter("gadgets", gadgets, order=35)
    del registry._EXPORTERS["tickets"]
    out = io.BytesIO()
    write_archive(user, out)
    with read_zip(out.getvalue()) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["gadgets"] == [{"gadget": "teapot", "owner": user.pk}]
    assert seen == [user]
    assert list(data).index("gadgets") == list(data).index("memberships") + 1
    assert "tickets" not in data  # nothing but the registration writes a section


def test_erasure_reaches_a_model_only_through_its_registration(workspace, queue, monkeypatch):
    from tickets.models import Ticket

    person = make_member(workspace, Role.REQUESTER)
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=person.user, subject="Mine")
    calls = []

    def eraser(ctx, entry):
        calls.append((ctx.user.pk, entry.label, ctx.workspace_ids))
        return {"tickets_seen": 1}

    entry = registry.entry_for(Ticket)
    monkeypatch.setitem(registry._REGISTRY, entry.label, dataclasses.replace(entry, erase=eraser))
    counts, _ = erase_account_data(person.user)
    assert calls == [(person.user.pk, "tickets.Ticket", frozenset({workspace.pk}))]
    assert counts["tickets_seen"] == 1 and "ticket_subjects_redacted" not in counts
    ticket.refresh_from_db()
    assert ticket.subject == "Mine"  # the registered tickets eraser did not run
