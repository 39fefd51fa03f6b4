"""Permission matrix of the workspaces app's URLs under ``/w/<slug>/``.

``MATRIX`` maps a URL name to one entry::

    "url_name": {
        # URL kwargs besides ``slug`` (always world.workspace.slug), built per request from the
        # World (tests/matrix_support.py). Create throw-away objects here for POSTs that change
        # or delete something.
        "kwargs_factory": lambda world: {"member_id": ...},
        # The methods to try. Each maps to an optional spec:
        #   "data":    lambda world, kwargs: {...}  the POST body (default: none)
        #   "applied": lambda world, kwargs: bool   did the change happen? Checked after EVERY
        #              request: it must be True exactly when the answer was a success (2xx/3xx
        #              for a signed-in role), so a refused request provably changed nothing.
        "methods": {"GET": {}, "POST": {"data": ..., "applied": ...}},
        # role -> status (or LOGIN) for every method, or method -> {role -> status}.
        "expected": admin_only(200),
    }

tests/test_permission_matrix.py merges this with tests/tickets/matrix.py, fails when a URL name
under ``w/<slug:slug>/`` has no entry (or an entry names no such URL, or a role is missing),
and runs every URL x method x role. POSTs here act on throw-away objects only.
"""

from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tests.matrix_support import ADMIN, admin_only, every_member
from workspaces.access import queues_granted_to
from workspaces.models import Invitation, Membership, Queue, Role
from workspaces.services import invitation_create
from workspaces.sso_models import WorkspaceSSO

GET_ONLY_ADMIN = {"GET": admin_only(405), "POST": admin_only(302)}


def _throwaway_member(world, role=Role.REQUESTER):
    return MembershipFactory(workspace=world.workspace, role=role, user=UserFactory())


def _member_kwargs(role=Role.REQUESTER):
    return lambda world: {"member_id": _throwaway_member(world, role).pk}


def _role_of(kwargs):
    return Membership.objects.filter(pk=kwargs["member_id"]).values_list("role", flat=True).first()


def _new_invitation(world):
    invitation, _token = invitation_create(
        workspace=world.workspace,
        email=f"throwaway-{Invitation.objects.count()}@example.test",
        role=Role.REQUESTER,
        actor=world.user(ADMIN),
    )
    return {"invitation_id": invitation.pk}


MATRIX = {
    "workspace_home": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": every_member(302),
    },
    "admin_home": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": admin_only(302),
    },
    "admin_members": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}, "POST": {}},
        "expected": {"GET": admin_only(200), "POST": admin_only(405)},
    },
    "admin_member": {
        "kwargs_factory": lambda world: {"member_id": world.membership("agent_with_queue").pk},
        "methods": {"GET": {}},
        "expected": admin_only(200),
    },
    "admin_member_role": {
        "kwargs_factory": _member_kwargs(Role.REQUESTER),
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"role": Role.AGENT},
                "applied": lambda world, kwargs: _role_of(kwargs) == Role.AGENT,
            },
        },
        "expected": GET_ONLY_ADMIN,
    },
    "admin_member_queues": {
        "kwargs_factory": _member_kwargs(Role.AGENT),
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"queues": [world.queue.pk]},
                "applied": lambda world, kwargs: (
                    queues_granted_to(Membership.objects.get(pk=kwargs["member_id"]))
                    .filter(pk=world.queue.pk)
                    .exists()
                ),
            },
        },
        "expected": GET_ONLY_ADMIN,
    },
    "admin_member_remove": {
        "kwargs_factory": _member_kwargs(Role.REQUESTER),
        "methods": {
            "GET": {},
            "POST": {
                "applied": lambda world, kwargs: (
                    not Membership.objects.filter(pk=kwargs["member_id"]).exists()
                )
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "admin_invite": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {
                    "email": "matrix-invitee@example.test",
                    "role": Role.REQUESTER,
                },
                "applied": lambda world, kwargs: Invitation.objects.filter(
                    email="matrix-invitee@example.test"
                ).exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "admin_invitation_revoke": {
        "kwargs_factory": _new_invitation,
        "methods": {
            "GET": {},
            "POST": {
                "applied": lambda world, kwargs: Invitation.objects.filter(
                    pk=kwargs["invitation_id"], revoked_at__isnull=False
                ).exists()
            },
        },
        "expected": GET_ONLY_ADMIN,
    },
    "admin_queues": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"name": "Matrix queue"},
                "applied": lambda world, kwargs: Queue.objects.filter(name="Matrix queue").exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "admin_queue": {
        "kwargs_factory": lambda world: {"queue_id": QueueFactory(workspace=world.workspace).pk},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"name": "Renamed by matrix"},
                "applied": lambda world, kwargs: (
                    Queue.objects.get(pk=kwargs["queue_id"]).name == "Renamed by matrix"
                ),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "admin_sso": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            # Switched off, so saving reads no discovery document (the matrix has no provider).
            "POST": {
                "data": lambda world, kwargs: {
                    "discovery_url": "https://idp.example.test",
                    "client_id": "matrix-client",
                    "client_secret": "matrix-secret",
                },
                "applied": lambda world, kwargs: WorkspaceSSO.objects.filter(
                    workspace=world.workspace, client_id="matrix-client"
                ).exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
}
