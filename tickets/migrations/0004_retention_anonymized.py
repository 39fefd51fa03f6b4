# Generated for issue 7 (retention)

import django.db.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_tickets_list_seek_and_edits"),
        ("workspaces", "0002_wsadmin_invitation_queues"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="anonymized_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ticket",
            name="requester_pseudonym",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=django.db.models.Q(("anonymized_at__isnull", True)),
                fields=["workspace", "closed_at", "id"],
                name="ticket_ws_retention_idx",
            ),
        ),
    ]
