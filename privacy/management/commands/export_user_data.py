"""``python manage.py export_user_data <email> --out FILE.zip``: an operator answering an access
request by email. Writes the same archive as the account page (privacy/account/export.py) and audits
``export.requested`` for the person."""

from django.core.management.base import BaseCommand, CommandError

from privacy.account.export import export_to_file
from privacy.audit import events
from workspaces.models import User

NO_SUCH_USER = "No account uses the email address {email!r}."


class Command(BaseCommand):
    help = "Write a person's personal-data export (ZIP) to a file."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--out", required=True, help="Path of the ZIP file to write.")

    def handle(self, *args, email, out, **options):
        user = User.objects.filter(email__iexact=User.objects.normalize_email(email)).first()
        if user is None:
            raise CommandError(NO_SUCH_USER.format(email=email))
        with open(out, "wb") as target:
            size = export_to_file(user=user, out=target)
        events.export_written_by_operator(user=user, size=size)
        self.stdout.write(f"Wrote {size} bytes to {out}.")
