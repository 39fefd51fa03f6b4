"""Publish the first terms of service and privacy policy, so a fresh install can take sign-ups."""

from datetime import UTC, datetime

from django.db import migrations

VERSION = "2026-11-01"
PUBLISHED_AT = datetime(2026, 11, 1, tzinfo=UTC)

TERMS = """These terms apply to everyone who uses this Helpdesk.

1. Your account. You sign up with an email address you control and keep your password to yourself. You are responsible for what is done with your account.

2. Workspaces. Each organisation that uses the Helpdesk has its own workspace. What you write in a workspace is shared with the people who work its tickets, and with nobody else.

3. Fair use. Do not use the Helpdesk to send spam, to harass people, or to upload anything you have no right to share. We may suspend accounts that do.

4. Your content stays yours. You keep the rights to what you write and upload. You allow the workspace you write in to store it and show it to the people who handle your request.

5. Ending. You can delete your account at any time from your account page. A workspace may keep its ticket history, with your name and email removed.

6. Changes. When these terms change in a way that matters, we show you the new version and ask you to accept it before you go on."""

PRIVACY = """This policy says what personal data the Helpdesk keeps about you, why, and what you can do about it.

What we keep: your name, your email address, your password (only as a one-way hash), the tickets and messages you write and the files you attach, and a security log of sign-ins and important changes with the network address and browser that made them.

Why: to run your account, to let the workspaces you belong to answer your requests, and to keep accounts safe from misuse.

Who sees it: the people who work tickets in the workspaces you belong to. Internal notes of agents are never shown to requesters. Nothing is shared across workspaces, and nothing is sold.

How long: each workspace sets how long closed tickets are kept. A sign-up that is never confirmed is deleted after four days. Security logs are kept as long as the law requires.

Your rights: from your account page you can see, correct, export and delete your data. If a workspace must keep a ticket for legal reasons, your name and email are removed from it instead.

Questions: write to the administrators of your workspace."""


def publish(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    for kind, text in (("terms", TERMS), ("privacy", PRIVACY)):
        PolicyVersion.objects.get_or_create(
            kind=kind,
            version=VERSION,
            defaults={"summary": text, "published_at": PUBLISHED_AT, "is_material": True},
        )


def unpublish(apps, schema_editor):
    PolicyVersion = apps.get_model("privacy", "PolicyVersion")
    # Versions someone has accepted stay: acceptances protect them.
    PolicyVersion.objects.filter(version=VERSION, acceptances__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(publish, unpublish),
    ]
