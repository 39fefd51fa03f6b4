# Slugs become case-insensitively unique (security issue 12): existing slugs are lower-cased
# first. A slug whose lower-case form another workspace already holds cannot keep its address:
# it becomes "<slug>-<id>" (its old upper-case links then redirect to the other workspace,
# which answers its members only).

import django.db.models.functions.text
import helpdesk.single_line
from django.db import migrations, models


def lower_case_slugs(apps, schema_editor):
    Workspace = apps.get_model("workspaces", "Workspace")
    taken = {slug.lower() for slug in Workspace.objects.values_list("slug", flat=True) if slug == slug.lower()}
    for workspace in Workspace.objects.exclude(slug__regex=r"^[^A-Z]*$").order_by("pk"):
        slug, suffix = workspace.slug.lower(), 0
        while slug in taken:
            suffix += 1
            tail = f"-{workspace.pk}" + (f"-{suffix}" if suffix > 1 else "")
            slug = workspace.slug.lower()[: 50 - len(tail)] + tail
        taken.add(slug)
        workspace.slug = slug
        workspace.save(update_fields=["slug"])


class Migration(migrations.Migration):

    dependencies = [
        ("workspaces", "0005_workspace_sso"),
    ]

    operations = [
        migrations.AlterField(
            model_name="workspace",
            name="name",
            field=models.CharField(max_length=120, validators=[helpdesk.single_line.validate_single_line]),
        ),
        migrations.AlterField(
            model_name="workspace",
            name="slug",
            field=models.SlugField(
                error_messages={"unique": "That address is already taken; choose another."},
                max_length=50,
                unique=True,
            ),
        ),
        migrations.RunPython(lower_case_slugs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="workspace",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("slug"),
                name="workspace_slug_ci_unique",
                violation_error_message="That address is already taken; choose another.",
            ),
        ),
    ]
