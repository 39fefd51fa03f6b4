"""Deferred sealing of audit events (issue 15, item 6): events are written unchained (seq NULL,
their own ``content_hash``) and linked into their chain by the sealer (privacy/audit/sealer.py).

The append-only triggers of 0005 are replaced so that they allow exactly one more change
besides the maintenance paths: sealing, which sets ``seq``, ``prev_hash``, ``hash`` and
``sealed_at`` once, on a row that had none of them, and changes nothing else.

PostgreSQL compares the whole row as jsonb minus the four chain columns, so a column added
later is covered without touching the trigger. SQLite names the columns (its triggers cannot
compare rows); the table rebuild of the schema operations above drops SQLite's old trigger, so
it is created again here, after them (and, going back, 0005's trigger is created again after
the reversed rebuild by the first operation). Going back drops ``content_hash``: rows written
since then no longer verify, so reversing is for development only.
"""

from django.conf import settings
from django.db import migrations, models

TRIGGER_MESSAGE = "audit events are append-only"
CHAIN_COLUMNS = ("seq", "prev_hash", "hash", "sealed_at")
# Every column but the chain columns, for SQLite's comparison (PostgreSQL compares the row).
CONTENT_COLUMNS = (
    "id", "chain", "created_at", "workspace_id", "actor_id", "actor_label", "ip_address", "user_agent",
    "action", "target_type", "target_id", "detail", "dedupe_key", "personal_salt", "personal_hash",
    "content_hash",
)  # fmt: skip

_PG_UNCHANGED = " ".join(f"- '{name}'" for name in CHAIN_COLUMNS)

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION privacy_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('helpdesk.audit_maintenance', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    -- Sealing: the chain columns go from empty to set, once; nothing else changes.
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.prev_hash = '' AND OLD.hash = ''
            AND OLD.sealed_at IS NULL AND NEW.seq IS NOT NULL AND NEW.hash <> ''
            AND NEW.sealed_at IS NOT NULL AND NEW.content_hash <> ''
            AND (to_jsonb(NEW) %(unchanged)s) = (to_jsonb(OLD) %(unchanged)s) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '%(message)s: %% refused on privacy_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the sealer (privacy/audit/sealer.py) and privacy/audit/maintenance.py change rows.';
END;
$$ LANGUAGE plpgsql;
"""

# 0005's function, for going back.
PG_FUNCTION_0005 = """
CREATE OR REPLACE FUNCTION privacy_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('helpdesk.audit_maintenance', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '%(message)s: %% refused on privacy_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Use privacy/audit_maintenance.py (retention purge, anonymization).';
END;
$$ LANGUAGE plpgsql;
"""

PG_TRIGGER = """
DROP TRIGGER IF EXISTS privacy_auditevent_append_only ON privacy_auditevent;
CREATE TRIGGER privacy_auditevent_append_only
    BEFORE UPDATE OR DELETE ON privacy_auditevent
    FOR EACH ROW EXECUTE FUNCTION privacy_auditevent_append_only();
"""

_SQLITE_SEALING = " AND ".join(
    [
        "OLD.seq IS NULL",
        "OLD.prev_hash = ''",
        "OLD.hash = ''",
        "OLD.sealed_at IS NULL",
        "NEW.seq IS NOT NULL",
        "NEW.hash <> ''",
        "NEW.sealed_at IS NOT NULL",
        "NEW.content_hash <> ''",
        *(f"NEW.{name} IS OLD.{name}" for name in CONTENT_COLUMNS),
    ]
)


def _sqlite_trigger(allow_sealing: bool) -> list[str]:
    sealing = f" AND NOT ({_SQLITE_SEALING})" if allow_sealing else ""
    return [
        "CREATE TABLE IF NOT EXISTS privacy_audit_maintenance (enabled integer NOT NULL)",
        "DROP TRIGGER IF EXISTS privacy_auditevent_no_update",
        f"""CREATE TRIGGER privacy_auditevent_no_update BEFORE UPDATE ON privacy_auditevent
        WHEN NOT EXISTS (SELECT 1 FROM privacy_audit_maintenance){sealing}
        BEGIN SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}: UPDATE refused on privacy_auditevent'); END""",
    ]


def _install(schema_editor, *, allow_sealing: bool):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        function = PG_FUNCTION if allow_sealing else PG_FUNCTION_0005
        schema_editor.execute(
            function % {"unchanged": _PG_UNCHANGED, "message": TRIGGER_MESSAGE} + PG_TRIGGER, params=None
        )
    elif vendor == "sqlite":
        for statement in _sqlite_trigger(allow_sealing):
            schema_editor.execute(statement, params=None)


def forward(apps, schema_editor):
    _install(schema_editor, allow_sealing=True)


def backward(apps, schema_editor):
    _install(schema_editor, allow_sealing=False)


def noop(apps, schema_editor):
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0015_retention_raw_email"),
        ("workspaces", "0008_workspace_redaction_and_restriction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Going back, this runs last: after SQLite's reversed table rebuild dropped the trigger.
        migrations.RunPython(noop, backward, elidable=False),
        migrations.AddField(
            model_name="auditevent",
            name="content_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sealed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)), fields=["chain", "id"], name="audit_unsealed_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("seq__isnull", False), models.Q(("content_hash", ""), _negated=True), _connector="OR"
                ),
                name="audit_unsealed_has_content_hash",
            ),
        ),
        # After the schema operations: SQLite's table rebuild drops the old trigger.
        migrations.RunPython(forward, backward, elidable=False),
    ]
