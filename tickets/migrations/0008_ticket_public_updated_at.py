# The requester-visible "last updated" time (security issue 12): internal notes and agent-only
# fields no longer move or re-date a requester's list. Existing tickets are dated by what a
# requester could see: the ticket's opening, its last public reply (or correction of one) and its
# closing, never later than the ticket's own updated_at.

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest, Least


def backfill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    replies = Message.objects.filter(ticket_id=OuterRef("pk"), kind="reply").order_by()
    last_reply = Subquery(replies.order_by("-created_at").values("created_at")[:1])
    last_edit = Subquery(replies.exclude(edited_at=None).order_by("-edited_at").values("edited_at")[:1])
    opened = F("created_at")
    public = Greatest(
        opened,
        Coalesce(last_reply, opened),
        Coalesce(last_edit, opened),
        Coalesce(F("closed_at"), opened),
    )
    Ticket.objects.update(public_updated_at=Least(F("updated_at"), public))


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0007_message_body_html_backfill"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="public_updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["workspace", "-public_updated_at", "-id"], name="ticket_ws_public_seek"),
        ),
    ]
