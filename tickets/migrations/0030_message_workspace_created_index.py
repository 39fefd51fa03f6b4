"""Messages: the index on the workspace alone becomes ``(workspace, created_at)``.

A staff search for a word in most messages reads the workspace's newest messages, newest first,
until it has enough matches (tickets/search.py). Without an index in that order PostgreSQL
walked every workspace's messages backwards by id and dropped the other workspaces' rows (the
newest 30,000 at 1M tickets in the benchmark), or, for a small workspace, read and sorted all of
its messages, computing each one's words (0.8 s for 30,000). The new index serves everything
the old one did, so the table keeps its number of indexes.

Built before the old one goes, both ``CONCURRENTLY`` on PostgreSQL, as in 0028. The old index
is dropped by name, not with ``AlterField(db_index=False)``, which would also drop and re-add
the foreign key, checking every row.
"""

import django.db.models.deletion
from django.db import migrations, models

NEW = models.Index(fields=["workspace", "created_at"], name="message_ws_created")


def _old_index(model, schema_editor):
    table, column = model._meta.db_table, model._meta.get_field("workspace").column
    return table, column, schema_editor._create_index_name(table, [column], suffix="")


def forwards(apps, schema_editor):
    model = apps.get_model("tickets", "Message")
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.add_index(model, NEW, **({"concurrently": True} if postgres else {}))
    _table, _column, name = _old_index(model, schema_editor)
    concurrently = " CONCURRENTLY" if postgres else ""
    schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}")


def backwards(apps, schema_editor):
    model = apps.get_model("tickets", "Message")
    postgres = schema_editor.connection.vendor == "postgresql"
    quote = schema_editor.quote_name
    table, column, name = _old_index(model, schema_editor)
    concurrently = " CONCURRENTLY" if postgres else ""
    schema_editor.execute(
        f"CREATE INDEX{concurrently} IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"
    )
    schema_editor.remove_index(model, NEW, **({"concurrently": True} if postgres else {}))


class Migration(migrations.Migration):
    # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("tickets", "0029_drop_ticket_queue_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="workspace",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AddIndex(model_name="message", index=NEW),
            ],
        )
    ]
