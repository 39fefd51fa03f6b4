"""The requester's index follows their list's order: (workspace, requester, public_updated_at
desc, id desc), status included for their views' counts. The list reads one page from it instead
of every one of the requester's tickets by id. It replaces the (workspace, requester, updated_at)
index, which nothing sorted by, so the ticket table keeps its number of indexes (each is one more
entry to write on every ticket change).

The new index is built before the old one goes, both ``CONCURRENTLY`` on PostgreSQL: tickets can
still be written meanwhile, and the requesters' counts always have an index to read.
"""

from django.conf import settings
from django.db import migrations, models

OLD = models.Index(
    fields=["workspace", "requester", "-updated_at"],
    include=("status", "id"),
    name="ticket_ws_requester_seek",
)
NEW = models.Index(
    fields=["workspace", "requester", "-public_updated_at", "-id"],
    include=("status",),
    name="ticket_ws_requester_public",
)


def _swap(schema_editor, model, add, remove):
    options = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(model, add, **options)
    schema_editor.remove_index(model, remove, **options)


def forwards(apps, schema_editor):
    _swap(schema_editor, apps.get_model("tickets", "Ticket"), NEW, OLD)


def backwards(apps, schema_editor):
    _swap(schema_editor, apps.get_model("tickets", "Ticket"), OLD, NEW)


class Migration(migrations.Migration):
    # CREATE/DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("tickets", "0027_drop_redundant_fk_indexes"),
        ("workspaces", "0009_membership_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(model_name="ticket", name="ticket_ws_requester_seek"),
                migrations.AddIndex(model_name="ticket", index=NEW),
            ],
        )
    ]
