"""Drop the single-column indexes of the audit event's two foreign keys (issue 15, item 6).

``(workspace, -id)`` and ``(actor, -id)`` serve every lookup by either column, so these two only
cost: one more index insertion per audited action and one more per seal (sealing changes ``seq``,
so it is never a HOT update). The state change is Django's ``db_index=False``; the database
change is a plain ``DROP INDEX`` (the names Django gave them, the same on both backends), because
``AlterField`` would rebuild the whole table on SQLite and drop its append-only trigger with it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "actor_id": "privacy_auditevent_actor_id_44652b67",
    "workspace_id": "privacy_auditevent_workspace_id_fd6b0a41",
}


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0016_audit_deferred_sealing"),
        ("workspaces", "0008_workspace_redaction_and_restriction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="auditevent",
                    name="workspace",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "privacy_auditevent" ("{column}")',
                )
                for column, name in INDEXES.items()
            ],
        ),
    ]
