"""``python manage.py erase_user <email> [--now]``: an operator answering a deletion request by
email. Same path as the account page: the account is deactivated and erased after the grace
period, or at once with ``--now``. ``--due`` runs every erasure whose grace period ended."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from privacy.account.erasure import erasure_request, erasure_run, erasures_run_due, pending_erasure
from privacy.account.models import ConsentSource, ErasureState
from workspaces.models import User

NO_SUCH_USER = "No account uses the email address {email!r}."
EMAIL_OR_DUE = "Give an email address, or --due."


class Command(BaseCommand):
    help = "Delete a person's account (after the grace period, or at once with --now)."

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?")
        parser.add_argument("--now", action="store_true", help="Erase at once, without a grace period.")
        parser.add_argument("--due", action="store_true", help="Run every erasure whose grace period ended.")

    def handle(self, *args, email=None, now=False, due=False, **options):
        if due:
            self.stdout.write(f"Ran {erasures_run_due()} due erasure(s).")
            return
        if not email:
            raise CommandError(EMAIL_OR_DUE)
        user = User.objects.filter(email__iexact=User.objects.normalize_email(email)).first()
        if user is None:
            raise CommandError(NO_SUCH_USER.format(email=email))
        existing = pending_erasure(user)
        try:
            erasure = existing or erasure_request(
                user=user, via=ConsentSource.OPERATOR, grace=0 if now else None
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if now:
            erasure = erasure_run(erasure_id=erasure.pk, force=True)
        if erasure.state == ErasureState.FAILED:
            raise CommandError(f"Erasure {erasure.pk} failed: {erasure.error}")
        if erasure.state == ErasureState.DONE:
            self.stdout.write(
                f"Erased: request {erasure.pk}, now {erasure.pseudonym}. Removed: {erasure.counts}"
            )
        else:
            self.stdout.write(
                f"Account deactivated; erasure {erasure.pk} scheduled for "
                f"{erasure.scheduled_for:%Y-%m-%d %H:%M} UTC."
            )
