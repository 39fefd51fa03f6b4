"""Render again the stored HTML of internal notes that hold a mention reference
(``@[Name](user:ID)``): notes now show it as a mention (tickets/bodies.py). Other messages
render as before, so only these rows change. Idempotent, in batches."""

from django.db import migrations

from tickets.bodies import stored_html_of

BATCH = 500


def rerender(apps, schema_editor):
    Message = apps.get_model("tickets", "Message")
    notes = Message.objects.filter(kind="note", body__contains="](user:").select_related("workspace")
    last = 0
    while True:
        rows = list(notes.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not rows:
            return
        for row in rows:
            row.body_html = stored_html_of(body=row.body, kind=row.kind, workspace_slug=row.workspace.slug)
        Message.objects.bulk_update(rows, ["body_html"])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_ticket_reads"),
    ]

    operations = [
        migrations.RunPython(rerender, migrations.RunPython.noop, elidable=True),
    ]
