"""Publish a privacy policy that names the right to complain to a data-protection authority, how
to reach the people responsible for a workspace, and the minimum age of 16. Not material: people
who accepted the first version see a notice, nobody has to accept again."""

from datetime import UTC, datetime

from django.db import migrations

VERSION = "2026-12-01"
PUBLISHED_AT = datetime(2026, 12, 1, tzinfo=UTC)

PRIVACY = """This policy says what personal data the Helpdesk keeps about you, why, and what you can do about it.

What we keep: your name, your email address, your password (only as a one-way hash), the tickets and messages you write and the files you attach, and a security log of sign-ins and important changes with the network address and browser that made them.

Why: to run your account, to let the workspaces you belong to answer your requests, and to keep accounts safe from misuse.

Who sees it: the people who work tickets in the workspaces you belong to. Internal notes of agents are never shown to requesters. Nothing is shared across workspaces, and nothing is sold.

How long: each workspace sets how long closed tickets are kept. A sign-up that is never confirmed is deleted after four days. Sign-in logs, security logs and expired sessions are deleted after the periods shown on each workspace's retention page.

Children: the Helpdesk is not meant for children. You must be at least 16 years old to create an account; we ask you to confirm it when you sign up and keep that confirmation with your consents.

Your rights: from your account page you can see, correct, export and delete your data. If a workspace must keep a ticket for legal reasons, your name and email are removed from it instead.

Who to contact: each workspace is run by the organisation you write to, and its administrators answer for the data in it. Reply on any of your tickets there or write to that organisation's usual contact; the contact for this Helpdesk itself is shown below when its operator has set one.

Complaints: if you think your data is handled unlawfully, you may complain to a data-protection authority, in particular the one where you live, work or where you think the infringement happened. In the European Union these are the national supervisory authorities listed by the European Data Protection Board (edpb.europa.eu). You do not have to contact us first, though we would like the chance to put things right."""


def publish(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        kind="privacy",
        version=VERSION,
        defaults={"summary": PRIVACY, "published_at": PUBLISHED_AT, "is_material": False},
    )


def unpublish(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    PolicyVersion.objects.filter(kind="privacy", version=VERSION, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0011_retention_run_account_kinds"),
    ]

    operations = [migrations.RunPython(publish, unpublish)]
