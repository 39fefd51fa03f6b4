import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from privacy.account.policies import policies_current, policy_accept
from tickets.custom_fields import custom_field_create
from tickets.mail.models import Mailbox
from tickets.models import CustomField, FieldKind, MessageKind, Priority, Status, Ticket
from tickets.reports import backfill
from tickets.services import message_post, ticket_create
from workspaces.models import Membership, Queue, Role, User, Workspace
from workspaces.services import membership_create, queue_create, queue_grant, workspace_create

DEMO_WORKSPACES = [("acme", "Acme Corporation"), ("globex", "Globex Industries")]
DEMO_PEOPLE = [
    ("admin", "Admin", Role.ADMIN),
    ("agent", "Agent", Role.AGENT),
    ("agent2", "Second Agent", Role.AGENT),
    ("requester", "Requester", Role.REQUESTER),
    ("requester2", "Second Requester", Role.REQUESTER),
]
# Each agent works one queue, so the demo shows queue-based visibility at once.
DEMO_QUEUES = [("Support", "agent"), ("Billing", "agent2")]
TICKETS_PER_WORKSPACE = 30

SUBJECTS = [
    "Cannot sign in after password change",
    "Invoice shows the wrong VAT number",
    "Export to CSV times out",
    "Please add a second admin to our team",
    "Refund for duplicate charge",
    "Mobile app crashes on start",
    "How do I change my billing address?",
    "Two-factor codes are not arriving",
    "Request to delete old project data",
    "Search does not find archived tickets",
]
REPLIES = [
    "Thanks for reaching out. Could you tell us which browser you use?",
    "I use the latest Firefox on Windows 11.",
    "We have reproduced the problem and are working on a fix.",
    "That solved it, thank you!",
    "Could you send a screenshot of the error message?",
]
NOTES = [
    "Customer is on the enterprise plan; prioritise.",
    "Looks like the same root cause as last week's outage.",
    "Checked the billing system: the charge was duplicated by the retry job.",
]


class Command(BaseCommand):
    help = "Create the demo workspaces, people, queues and tickets (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo-password")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database already has people."
        )
        parser.add_argument(
            "--force", action="store_true", help="Run even though DEBUG is off (never in production)."
        )

    def handle(self, *args, password, force, if_empty, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has people; demo data not added.")
            return
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates accounts with a known password; DEBUG is off, so it refuses. "
                "Use --force only on a machine that is not production."
            )
        with transaction.atomic():
            logins = [self._seed_workspace(slug, name, password) for slug, name in DEMO_WORKSPACES]
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /accounts/login/ with:"))
        for workspace_logins in logins:
            for email, role in workspace_logins:
                self.stdout.write(f"  {email:<28} {role:<10} password: {password}")

    def _seed_workspace(self, slug, name, password):
        workspace = Workspace.objects.filter(slug=slug).first() or workspace_create(name=name, slug=slug)
        people = {}
        for local, display, role in DEMO_PEOPLE:
            email = f"{local}@{slug}.test"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    display_name=f"{display} ({name.split()[0]})",
                    email_confirmed_at=timezone.now(),
                )
                # Demo people signed up under the current terms and privacy policy.
                policy_accept(user=user, policy_ids=[policy.pk for policy in policies_current()])
            people[local] = user
            if not Membership.objects.filter(workspace=workspace, user=user).exists():
                membership_create(workspace=workspace, user=user, role=role)
        queues = []
        for queue_name, agent in DEMO_QUEUES:
            queue = Queue.objects.filter(workspace=workspace, name=queue_name).first()
            if queue is None:
                queue = queue_create(workspace=workspace, name=queue_name)
                queue_grant(
                    queue=queue,
                    membership=Membership.objects.get(workspace=workspace, user=people[agent]),
                )
            queues.append((queue, people[agent]))
        # Mail to support@<slug>.test becomes a ticket in the first queue (no IMAP: by
        # ``manage.py ingest_email --mailbox support@<slug>.test < message.eml``).
        Mailbox.objects.get_or_create(
            address=f"support@{slug}.test", defaults={"workspace": workspace, "queue": queues[0][0]}
        )
        self._seed_custom_fields(workspace, people["admin"])
        if not Ticket.objects.filter(workspace=workspace).exists():
            self._seed_tickets(workspace, queues, people)
        return [(f"{local}@{slug}.test", role.label) for local, _, role in DEMO_PEOPLE]

    def _seed_custom_fields(self, workspace, admin):
        """Two ticket fields (issue 13): a dropdown requesters see and a personal one for staff."""
        if CustomField.objects.filter(workspace=workspace).exists():
            return
        custom_field_create(
            workspace=workspace,
            label="Product",
            kind=FieldKind.DROPDOWN,
            options=["Printer", "Laptop", "Email", "Other"],
            visible_to_requesters=True,
            actor=admin,
        )
        custom_field_create(
            workspace=workspace, label="Call-back number", kind=FieldKind.TEXT, personal=True, actor=admin
        )

    def _seed_tickets(self, workspace, queues, people):
        rng = random.Random(f"demo-{workspace.slug}")  # noqa: S311 - repeatable demo data  # nosec B311
        now = timezone.now()
        requesters = [people["requester"], people["requester2"]]
        for index in range(TICKETS_PER_WORKSPACE):
            queue, agent = queues[index % len(queues)]
            requester = requesters[(index // 2) % len(requesters)]
            created = now - timezone.timedelta(days=TICKETS_PER_WORKSPACE - index, hours=rng.randint(0, 20))
            ticket = ticket_create(
                workspace=workspace,
                queue=queue,
                requester=requester,
                subject=SUBJECTS[index % len(SUBJECTS)],
                description=f"{REPLIES[1]} Ticket {index + 1} of the demo.",
                priority=rng.choice(list(Priority.values)),
                created_at=created,
                notify=False,  # demo data: no emails
            )
            step = timezone.timedelta(hours=2)
            message_post(
                ticket=ticket,
                author=agent,
                kind=MessageKind.REPLY,
                body=rng.choice(REPLIES),
                created_at=created + step,
                notify=False,
            )
            if index % 2 == 0:
                message_post(
                    ticket=ticket,
                    author=agent,
                    kind=MessageKind.NOTE,
                    body=rng.choice(NOTES),
                    created_at=created + 2 * step,
                )
            status = rng.choice(list(Status.values))
            Ticket.objects.filter(pk=ticket.pk).update(
                status=status,
                assignee=agent if status != Status.NEW else None,
                closed_at=created + 3 * step if status == Status.CLOSED else None,
            )
        # The statuses above were set directly, as history: recount the reports' figures from them.
        backfill(workspace_id=workspace.pk)
