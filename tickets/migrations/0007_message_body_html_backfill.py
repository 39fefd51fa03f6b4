"""Render every existing message body once into ``body_html`` (pages stop rendering on a read).

Uses the renderer of the code being deployed: it is the one whose output the pages must show
(markdown-it-py, the hardened URL rules, bidi controls shown). Idempotent, in batches, so it can
be run again after a change of the rendering rules.
"""

from django.db import migrations

from helpdesk.markdown import render_markdown

BATCH = 500


def backfill(apps, schema_editor):
    Message = apps.get_model("tickets", "Message")
    last = 0
    while True:
        rows = list(Message.objects.filter(pk__gt=last).order_by("pk").only("pk", "body")[:BATCH])
        if not rows:
            return
        for row in rows:
            row.body_html = str(render_markdown(row.body))
        Message.objects.bulk_update(rows, ["body_html"])
        last = rows[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_message_body_html"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
