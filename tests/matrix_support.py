"""Shared vocabulary of the access matrix (tests/test_permission_matrix.py).

Every URL pattern of the site (walked from ``django.urls.get_resolver()``) has an entry in one of
the ``tests/<app>/matrix.py`` files (``MATRIX = {key: entry}``), and every entry is tried with
every method of ``METHODS`` as every role of ``ROLES``. A URL without an entry fails
``test_every_url_has_a_matrix_entry`` with its key.

Adding a URL: one line in the matrix of its app
-----------------------------------------------

The key is the URL name (``"ticket_list"``, ``"admin:index"`` with its namespace), or the full
route for a pattern without a name (``"accounts/"``). The shortest entries use ``served``::

    "two_factor_setup": served(GET=signed_in(200), POST=signed_in(200), unserved=signed_in(405)),
    "sso_callback": served(GET=everyone(302)),
    "sso_settings": served(GET=admin_only(200), POST=(admin_only(302), {"data": ..., "applied": ...})),
    "session_revoke": served(POST=signed_in(302), kwargs=lambda world: {"session_id": ...}),

- each keyword names a method the view serves and maps to the answers by role (``signed_in``,
  ``everyone``, ``every_member``, ``admin_only``, ``only`` build them), optionally as a pair
  ``(answers, spec)`` where spec is ``{"data": f(world, kwargs), "applied": f(world, kwargs)}``:
  ``data`` is the request body, ``applied`` says whether the change happened and must be True
  exactly when the answer was a success (so a refusal provably changed nothing);
- HEAD and OPTIONS count as served only where listed, like any method: the views declare their
  methods (``require_GET`` refuses HEAD), Django's generic views serve both (``View`` maps HEAD
  to GET and answers OPTIONS with its Allow header);
- every other method must be refused: ``unserved`` gives the answers (default: 405 for everyone;
  under ``/w/<slug>/`` derived from ``workspace_view``: 405 for roles it lets in, 404 for the
  others, LOGIN for anonymous). Use ``unserved=signed_in(405)`` for ``@login_required`` views.
- ``kwargs`` builds the URL arguments other than ``slug`` from the World (create throw-away
  objects there). A URL argument naming an object (``*_id``, ``number``) needs a foreign
  counterpart in ``PROBES`` below, else ``test_every_url_argument_is_probed_or_declared`` fails;
  the matrix then also asks for the URL with the other workspace's object and expects 404.

Known gaps: ``KNOWN_METHOD_GAPS`` in tests/test_permission_matrix.py lists (key, method) pairs a
view answers today although it should refuse them; they run as strict xfails, so fixing the
view makes the run fail until the pair is removed from the list.

The roles, all seen from the workspace ``world.workspace`` (slug ``acme``):

- ``admin``: an admin of the workspace.
- ``agent_with_queue``: an agent granted ``world.queue`` ("Support", where ``world.ticket`` is).
- ``agent_without_queue``: an agent granted only ``world.other_queue`` ("Billing").
- ``requester_owner``: the requester of ``world.ticket``.
- ``requester_other``: another requester (owner of ``world.other_ticket`` in Billing).
- ``outsider``: an admin of another workspace (``world.other_workspace``), not a member here.
- ``anonymous``: not signed in.

Nobody is staff or superuser: Django's admin site lets none of them in (``ADMIN_LOGIN``).

Expected answers are HTTP status codes, ``LOGIN`` for "302 to the login page" or ``ADMIN_LOGIN``
for "302 to the Django admin's login page".
"""

from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from guardian.shortcuts import assign_perm

from privacy.account.models import DataExport, ExportStatus
from privacy.retention.models import HoldScope, LegalHold
from tests.factories import MembershipFactory, QueueFactory, UserFactory, WorkspaceFactory
from tickets.attachments import attachment_add
from tickets.models import Attachment, Message, MessageKind, Ticket, TicketParticipant
from tickets.services import message_post, ticket_create
from workspaces.models import QUEUE_PERMISSION, Invitation, Membership, Queue, Role
from workspaces.services import invitation_create
from workspaces.sessions.keys import hash_key, seal
from workspaces.sessions.models import UserSession
from workspaces.two_factor.models import Passkey

ADMIN = "admin"
AGENT_WITH_QUEUE = "agent_with_queue"
AGENT_WITHOUT_QUEUE = "agent_without_queue"
REQUESTER_OWNER = "requester_owner"
REQUESTER_OTHER = "requester_other"
OUTSIDER = "outsider"
ANONYMOUS = "anonymous"
ROLES = (
    ADMIN,
    AGENT_WITH_QUEUE,
    AGENT_WITHOUT_QUEUE,
    REQUESTER_OWNER,
    REQUESTER_OTHER,
    OUTSIDER,
    ANONYMOUS,
)
SIGNED_IN = tuple(role for role in ROLES if role != ANONYMOUS)
MEMBERS = tuple(role for role in SIGNED_IN if role != OUTSIDER)  # members of world.workspace
# The workspace role each matrix role holds in world.workspace (the outsider holds none).
WORKSPACE_ROLE = {
    ADMIN: Role.ADMIN,
    AGENT_WITH_QUEUE: Role.AGENT,
    AGENT_WITHOUT_QUEUE: Role.AGENT,
    REQUESTER_OWNER: Role.REQUESTER,
    REQUESTER_OTHER: Role.REQUESTER,
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_METHODS = METHODS

LOGIN = "login"  # expected: a redirect to the login page
ADMIN_LOGIN = "admin_login"  # expected: a redirect to the Django admin's login page


def everyone(status) -> dict:
    """``status`` for every role, anonymous visitors included."""
    return dict.fromkeys(ROLES, status)


def signed_in(status) -> dict:
    """``status`` for every signed-in role; LOGIN for anonymous."""
    return {**everyone(status), ANONYMOUS: LOGIN}


def only(role: str, status: int) -> dict:
    """``status`` for ``role``; 404 for every other signed-in role; LOGIN for anonymous."""
    return {**signed_in(404), role: status}


def admin_only(status: int = 200) -> dict:
    return only(ADMIN, status)


def every_member(status: int = 200) -> dict:
    """``status`` for every member of the workspace; 404 for the outsider; LOGIN for anonymous."""
    return {**signed_in(status), OUTSIDER: 404}


def no_kwargs(world) -> dict:
    return {}


def served(*, kwargs=no_kwargs, unserved=None, **methods) -> dict:
    """A matrix entry (see the module docstring): ``METHOD=answers`` or ``METHOD=(answers, spec)``."""
    specs, expected = {}, {}
    for method, value in methods.items():
        answers, spec = value if isinstance(value, tuple) else (value, {})
        specs[method], expected[method] = spec, answers
    entry = {"kwargs_factory": kwargs, "methods": specs, "expected": expected}
    if unserved is not None:
        entry["unserved"] = unserved
    return entry


# The world --------------------------------------------------------------------------------------


@dataclass
class World:
    workspace: object
    other_workspace: object
    queue: object
    other_queue: object
    ticket: object
    other_ticket: object
    foreign_ticket: object
    members: dict = field(default_factory=dict)
    # Objects of every kind in other_workspace, for the cross-workspace probes (PROBES).
    foreign: dict = field(default_factory=dict)

    def membership(self, role: str):
        """The Membership playing ``role`` (the outsider's is in the other workspace)."""
        return self.members.get(role)

    def user(self, role: str):
        membership = self.membership(role)
        return membership.user if membership else None


def build_world() -> World:
    workspace = WorkspaceFactory(slug="acme", name="Acme")
    other_workspace = WorkspaceFactory(slug="globex", name="Globex")
    queue = QueueFactory(workspace=workspace, name="Support")
    other_queue = QueueFactory(workspace=workspace, name="Billing")

    def member(role, in_workspace=workspace):
        return MembershipFactory(workspace=in_workspace, role=role, user=UserFactory())

    members = {
        ADMIN: member(Role.ADMIN),
        AGENT_WITH_QUEUE: member(Role.AGENT),
        AGENT_WITHOUT_QUEUE: member(Role.AGENT),
        REQUESTER_OWNER: member(Role.REQUESTER),
        REQUESTER_OTHER: member(Role.REQUESTER),
        OUTSIDER: member(Role.ADMIN, other_workspace),
    }
    assign_perm(QUEUE_PERMISSION, members[AGENT_WITH_QUEUE].user, queue)
    assign_perm(QUEUE_PERMISSION, members[AGENT_WITHOUT_QUEUE].user, other_queue)
    # Through the services, so ticket numbers follow the workspace counter as in production.
    ticket = ticket_create(
        workspace=workspace,
        queue=queue,
        requester=members[REQUESTER_OWNER].user,
        subject="Printer on fire",
        description="It is on fire.",
    )
    message_post(
        ticket=ticket, author=members[AGENT_WITH_QUEUE].user, kind=MessageKind.NOTE, body="Internal note."
    )
    other_ticket = ticket_create(
        workspace=workspace,
        queue=other_queue,
        requester=members[REQUESTER_OTHER].user,
        subject="Invoice question",
        description="Why two charges?",
    )
    foreign = _build_foreign(other_workspace, outsider=members[OUTSIDER].user)
    return World(
        workspace=workspace,
        other_workspace=other_workspace,
        queue=queue,
        other_queue=other_queue,
        ticket=ticket,
        other_ticket=other_ticket,
        foreign_ticket=foreign["ticket"],
        members=members,
        foreign=foreign,
    )


def _build_foreign(other_workspace, *, outsider) -> dict:
    """One object of every kind a URL names, in the other workspace. Ticket numbers count per
    workspace, so the foreign ticket gets a number this workspace does not have (else the probe
    would ask for this workspace's own ticket of the same number)."""
    queue = QueueFactory(workspace=other_workspace, name="Support")
    person = MembershipFactory(workspace=other_workspace, role=Role.REQUESTER, user=UserFactory())
    for subject in ("Foreign ticket one", "Foreign ticket two"):
        ticket_create(
            workspace=other_workspace, queue=queue, requester=person.user, subject=subject, description="."
        )
    ticket = ticket_create(
        workspace=other_workspace,
        queue=queue,
        requester=outsider,
        subject="Foreign ticket",
        description="Of another workspace.",
    )
    message = message_post(ticket=ticket, author=outsider, kind=MessageKind.REPLY, body="Foreign reply.")
    TicketParticipant.objects.create(workspace=other_workspace, ticket=ticket, user=person.user)
    invitation, _token = invitation_create(
        workspace=other_workspace, email="foreign-invitee@example.test", role=Role.AGENT, actor=outsider
    )
    hold = LegalHold.objects.create(
        workspace=other_workspace, scope=HoldScope.WORKSPACE, reason="Foreign hold", placed_by=outsider
    )
    return {
        "queue": queue,
        "person": person,
        "ticket": ticket,
        "message": message,
        "invitation": invitation,
        "hold": hold,
    }


def foreign_attachment(world) -> Attachment:
    """A file on the foreign reply (made per test: files go to the test's own storage)."""
    message = world.foreign["message"]
    return attachment_add(
        ticket=message.ticket,
        message=message,
        uploaded_by=message.author,
        upload=SimpleUploadedFile("foreign.pdf", b"%PDF-1.4\n%%EOF\n"),
    )


def passkey_of(user) -> Passkey:
    """A registered passkey of ``user`` (the key material is never checked by these views)."""
    return Passkey.objects.create(
        user=user, name="Matrix key", credential_id=f"cred-{user.pk}".encode(), public_key=b"key"
    )


def other_session_of(user) -> UserSession:
    """A live session of ``user`` in another browser: in the session store, with its row."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()
    return UserSession.objects.create(
        user=user, key_hash=hash_key(store.session_key), sealed_key=seal(store.session_key), device="Other"
    )


def ready_export(user) -> DataExport:
    """A finished, downloadable export of ``user`` (made per test, in the test's storage)."""
    now = timezone.now()
    export = DataExport(
        user=user, status=ExportStatus.READY, created_at=now, expires_at=now + timezone.timedelta(days=7)
    )
    export.file.save("export.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18), save=False)
    export.size = 22
    export.finished_at = now
    export.save()
    return export


# Cross-workspace probes ---------------------------------------------------------------------------
# URL argument -> the same kind of object of the other workspace (or of another person, for the
# account's exports). test_permission_matrix substitutes it, keeping this workspace's slug, and
# expects 404 from every role. A new id-like argument must be added here or to NOT_OBJECT_IDS.


def foreign_mailbox(world):
    """A support mailbox of the other workspace."""
    from tickets.mail.models import Mailbox

    queue = QueueFactory(workspace=world.other_workspace, name="Globex mail")
    return Mailbox.objects.create(workspace=world.other_workspace, queue=queue, address="support@globex.test")


def foreign_custom_field(world):
    """A custom ticket field of the other workspace."""
    from tickets.models import CustomField

    return CustomField.objects.create(workspace=world.other_workspace, label="Globex field", kind="text")


PROBES = {
    "number": lambda world: world.foreign["ticket"].number,
    "message_id": lambda world: world.foreign["message"].pk,
    "attachment_id": lambda world: foreign_attachment(world).pk,
    "user_id": lambda world: world.foreign["person"].user_id,  # a participant of the foreign ticket
    "member_id": lambda world: world.foreign["person"].pk,
    "mailbox_id": lambda world: foreign_mailbox(world).pk,
    "queue_id": lambda world: world.foreign["queue"].pk,
    "invitation_id": lambda world: world.foreign["invitation"].pk,
    "hold_id": lambda world: world.foreign["hold"].pk,
    "export_id": lambda world: ready_export(world.foreign["person"].user).pk,
    # Another person's passkey and signed-in session (account objects, not a workspace's).
    "passkey_id": lambda world: passkey_of(world.foreign["person"].user).pk,
    "session_id": lambda world: other_session_of(world.foreign["person"].user).pk,
    "request_id": lambda world: foreign_subject_request(world).pk,
    "field_id": lambda world: foreign_custom_field(world).pk,  # a custom ticket field (issue 13)
    "macro_id": lambda world: foreign_macro(world).pk,
    "saved_view_id": lambda world: foreign_saved_view(world).pk,
}


def foreign_saved_view(world):
    """A view of the ticket list shared in the other workspace."""
    from tickets.models import SavedView

    return SavedView.objects.create(
        workspace=world.other_workspace, owner=world.foreign["person"].user, name="Foreign view", shared=True
    )


def foreign_macro(world):
    """A shared macro of the other workspace (tickets/macros)."""
    from tickets.macros.models import Macro

    return Macro.objects.create(
        workspace=world.other_workspace, name="Foreign", shortcut="foreign", body="Hi"
    )


def foreign_subject_request(world):
    """A data-subject request of the other workspace (privacy/requests)."""
    from privacy.requests.models import SubjectRequest

    return SubjectRequest.objects.create(
        workspace=world.other_workspace, subject=world.foreign["person"].user, kind="access"
    )


# URL arguments that name no object row, and why no probe applies.
NOT_OBJECT_IDS = {
    "slug": "the workspace itself: the outsider role is the probe",
    "token": "a secret link token (random, hashed): a wrong one is tested in its app's tests",
    "uidb64": "half of Django's signed password-reset link, checked with its token",
    "kind": "a published policy's kind: public text, no tenant",
    "table": "which table of the reports dashboard to download (a fixed list of names), no tenant",
}


def foreign_fingerprint(world) -> tuple:
    """What a probe could change in the other workspace: compared before and after each probe."""
    other = world.other_workspace
    return (
        tuple(
            Ticket.objects.filter(workspace=other)
            .order_by("pk")
            .values_list("pk", "status", "priority", "queue_id", "assignee_id", "subject")
        ),
        tuple(Message.objects.filter(workspace=other).order_by("pk").values_list("pk", "body", "kind")),
        tuple(TicketParticipant.objects.filter(workspace=other).order_by("pk").values_list("pk", "user_id")),
        tuple(Membership.objects.filter(workspace=other).order_by("pk").values_list("pk", "role")),
        tuple(Queue.objects.filter(workspace=other).order_by("pk").values_list("pk", "name")),
        tuple(Invitation.objects.filter(workspace=other).order_by("pk").values_list("pk", "revoked_at")),
        tuple(LegalHold.objects.filter(workspace=other).order_by("pk").values_list("pk", "released_at")),
        tuple(Attachment.objects.filter(workspace=other).order_by("pk").values_list("pk", "message_id")),
        tuple(DataExport.objects.filter(user=world.foreign["person"].user).values_list("pk", "status")),
    )
