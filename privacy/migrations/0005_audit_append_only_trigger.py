"""The audit table refuses UPDATE and DELETE unless the transaction turned maintenance on.

PostgreSQL: a BEFORE UPDATE OR DELETE row trigger raising unless
``SET LOCAL helpdesk.audit_maintenance = 'on'`` (privacy/audit_maintenance.py). TRUNCATE is not
blocked: Django's test flush uses it; production should run as a role without TRUNCATE.

SQLite (embedded default): a BEFORE UPDATE trigger raising unless the transaction put a row in
``privacy_audit_maintenance``. DELETE is not blocked there, because Django's test flush empties
tables with ``DELETE FROM`` on SQLite; the model and queryset refuse deletes, and
verify_audit_log detects any removed row.
"""

from django.db import migrations

TRIGGER_MESSAGE = "audit events are append-only"

PG_FORWARD = f"""
CREATE OR REPLACE FUNCTION privacy_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('helpdesk.audit_maintenance', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{TRIGGER_MESSAGE}: % refused on privacy_auditevent', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Use privacy/audit_maintenance.py (retention purge, anonymization).';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS privacy_auditevent_append_only ON privacy_auditevent;
CREATE TRIGGER privacy_auditevent_append_only
    BEFORE UPDATE OR DELETE ON privacy_auditevent
    FOR EACH ROW EXECUTE FUNCTION privacy_auditevent_append_only();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS privacy_auditevent_append_only ON privacy_auditevent;
DROP FUNCTION IF EXISTS privacy_auditevent_append_only();
"""

SQLITE_FORWARD = [
    "CREATE TABLE IF NOT EXISTS privacy_audit_maintenance (enabled integer NOT NULL)",
    "DROP TRIGGER IF EXISTS privacy_auditevent_no_update",
    f"""CREATE TRIGGER privacy_auditevent_no_update BEFORE UPDATE ON privacy_auditevent
    WHEN NOT EXISTS (SELECT 1 FROM privacy_audit_maintenance)
    BEGIN SELECT RAISE(ABORT, '{TRIGGER_MESSAGE}: UPDATE refused on privacy_auditevent'); END""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS privacy_auditevent_no_update",
    "DROP TABLE IF EXISTS privacy_audit_maintenance",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0004_audit_dedupe_personal_hash"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
