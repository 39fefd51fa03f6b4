"""The data-processing agreement: a third kind of policy, accepted for the organisation by whoever
creates a workspace (the workspace is the controller, the Helpdesk's operator its processor)."""

from datetime import UTC, datetime

from django.db import migrations, models

VERSION = "2026-12-01"
PUBLISHED_AT = datetime(2026, 12, 1, tzinfo=UTC)

DPA = """This agreement applies between the organisation that creates a workspace (the controller) and the operator of this Helpdesk (the processor), under Article 28 of the GDPR.

1. Subject. The processor stores and processes the personal data the workspace's people and requesters put into the workspace (names, email addresses, tickets, messages, attachments, audit records), only to run the Helpdesk for the controller.

2. Instructions. The processor acts only on the controller's documented instructions: the workspace's settings (retention periods, legal holds, redaction, restriction) and the requests its admins answer in the data-request console.

3. Confidentiality. People authorised to process the data are bound to confidentiality.

4. Security. The processor keeps the measures described in the Helpdesk's documentation: encryption in transit, private storage, a tamper-evident audit log, per-workspace separation.

5. Sub-processors. The processor names its hosting and storage providers on request and tells the controller before it changes them.

6. Data subjects' rights. The console lets the controller find a person, export, erase or restrict their data in the workspace, within the one-month deadline.

7. Breaches. The processor tells the controller without undue delay after becoming aware of a personal-data breach.

8. End. When the workspace is deleted, its data is deleted, except what the law requires to keep.

9. Audits. The processor makes available the information needed to demonstrate compliance with this agreement."""


def publish(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        kind="dpa",
        version=VERSION,
        defaults={"summary": DPA, "published_at": PUBLISHED_AT, "is_material": True},
    )


def unpublish(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    PolicyVersion.objects.filter(kind="dpa", version=VERSION, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0013_subject_requests"),
    ]

    operations = [
        migrations.AlterField(
            model_name="policyversion",
            name="kind",
            field=models.CharField(
                choices=[
                    ("terms", "Terms of service"),
                    ("privacy", "Privacy policy"),
                    ("dpa", "Data-processing agreement"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(publish, unpublish),
    ]
