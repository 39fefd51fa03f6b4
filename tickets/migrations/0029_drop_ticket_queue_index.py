"""Drop the single-column index of ``tickets_ticket (queue_id)``.

Every lookup of tickets by queue is within a workspace and served by ``(workspace, queue, ...)``
(the queues page's open-ticket count now names the workspace too). Alone, the index was worse
than useless: a search for a word kept to an agent's queues had PostgreSQL AND a bitmap of every
ticket of those queues (500,000 at 1M tickets, 12 of the statement's 19 ms) with the few
thousand tickets whose subject matched. It was also one more entry to write on every ticket
change (none of them is a HOT update): a reply, a status change, retention's anonymization.

As in 0027, only the index goes (``DROP INDEX CONCURRENTLY`` on PostgreSQL); Django's
``AlterField(db_index=False)`` would also drop and re-add the foreign key, checking every row.
"""

import django.db.models.deletion
from django.db import migrations, models


def _name(apps, schema_editor):
    model = apps.get_model("tickets", "Ticket")
    table, column = model._meta.db_table, model._meta.get_field("queue").column
    return table, column, schema_editor._create_index_name(table, [column], suffix="")


def drop(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    _table, _column, name = _name(apps, schema_editor)
    schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}")


def restore(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    quote = schema_editor.quote_name
    table, column, name = _name(apps, schema_editor)
    schema_editor.execute(
        f"CREATE INDEX{concurrently} IF NOT EXISTS {quote(name)} ON {quote(table)} ({quote(column)})"
    )


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("tickets", "0028_requester_list_index"),
        ("workspaces", "0009_membership_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop, restore)],
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="queue",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tickets",
                        to="workspaces.queue",
                    ),
                ),
            ],
        )
    ]
