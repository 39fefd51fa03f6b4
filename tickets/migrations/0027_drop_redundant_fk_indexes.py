"""Drop two single-column indexes that other indexes already serve.

``tickets_ticket (workspace_id)``: every seek index of the ticket table starts with the
workspace. ``tickets_message (ticket_id)``: ``(ticket_id, created_at)`` starts with the ticket.
Each was one more index entry to write on every ticket change (a reply, a status change, the
retention sweep's anonymization: none of them is a HOT update) and on every message written or
redacted.

Only the indexes go: Django's ``AlterField(db_index=False)`` would also drop and re-add the
foreign keys, and re-adding one checks every row of the table under a lock (minutes at ten
million messages). ``DROP INDEX CONCURRENTLY`` on PostgreSQL: tickets can still be written
meanwhile.
"""

import django.db.models.deletion
from django.db import migrations, models

REDUNDANT = [("Ticket", "workspace"), ("Message", "ticket")]


def _names(apps, schema_editor):
    for model_name, field_name in REDUNDANT:
        model = apps.get_model("tickets", model_name)
        column = model._meta.get_field(field_name).column
        table = model._meta.db_table
        yield table, column, schema_editor._create_index_name(table, [column], suffix="")


def drop(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for _table, _column, name in _names(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}")


def restore(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    quote = schema_editor.quote_name
    for table, column, name in _names(apps, schema_editor):
        schema_editor.execute(
            f"CREATE INDEX{concurrently} IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"
        )


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("tickets", "0026_requester_counts_index"),
        ("workspaces", "0009_membership_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="ticket",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="tickets.ticket",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tickets",
                        to="workspaces.workspace",
                    ),
                ),
            ],
        )
    ]
