"""Access matrix of the workspaces app's URLs: the admin pages under ``/w/<slug>/``, sign-in and
passwords under ``/accounts/``, workspace creation and invitation links.

The entry format (and the one-line ``served(...)`` form), roles, ``LOGIN`` and the ``World`` are
documented in tests/matrix_support.py. POSTs here act on throw-away objects only.
"""

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tests.matrix_support import (
    ADMIN,
    ANONYMOUS,
    OUTSIDER,
    admin_only,
    every_member,
    everyone,
    served,
    signed_in,
)
from workspaces.access import queues_granted_to
from workspaces.models import Invitation, Membership, Queue, Role, Workspace
from workspaces.services import invitation_create
from workspaces.sso_models import WorkspaceSSO


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
        "methods": {"GET": {}},
        "expected": {"GET": admin_only(200)},
    },
    "admin_member": {
        "kwargs_factory": lambda world: {"member_id": world.membership("agent_with_queue").pk},
        "methods": {"GET": {}},
        "expected": admin_only(200),
    },
    "admin_member_role": {
        "kwargs_factory": _member_kwargs(Role.REQUESTER),
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"role": Role.AGENT, "seen_role": Role.REQUESTER},
                "applied": lambda world, kwargs: _role_of(kwargs) == Role.AGENT,
            },
        },
        "expected": {"POST": admin_only(302)},
    },
    "admin_member_queues": {
        "kwargs_factory": _member_kwargs(Role.AGENT),
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"queues": [world.queue.pk]},
                "applied": lambda world, kwargs: (
                    queues_granted_to(Membership.objects.get(pk=kwargs["member_id"]))
                    .filter(pk=world.queue.pk)
                    .exists()
                ),
            },
        },
        "expected": {"POST": admin_only(302)},
    },
    "admin_member_restriction": {
        "kwargs_factory": _member_kwargs(Role.REQUESTER),
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"reason": "Contests accuracy"},
                "applied": lambda world, kwargs: Membership.objects.filter(
                    pk=kwargs["member_id"], restricted_at__isnull=False
                ).exists(),
            },
        },
        "expected": {"POST": admin_only(302)},
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
            "POST": {
                "applied": lambda world, kwargs: Invitation.objects.filter(
                    pk=kwargs["invitation_id"], revoked_at__isnull=False
                ).exists()
            },
        },
        "expected": {"POST": admin_only(302)},
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
    "admin_security": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"require_two_factor": "on"},
                "applied": lambda world, kwargs: Workspace.objects.filter(
                    pk=world.workspace.pk, require_two_factor=True
                ).exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "admin_requesters": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"intake": "public", "intake_domains": ""},
                "applied": lambda world, kwargs: Workspace.objects.filter(
                    pk=world.workspace.pk, intake="public"
                ).exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    # The world's workspace admits invited people only: its Get help link does not exist for anyone.
    "get_help": served(
        GET=everyone(404), POST=everyone(404), kwargs=lambda world: {"slug": world.workspace.slug}
    ),
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


# Outside /w/<slug>/: sign-in, password, workspace creation, invitations ------------------------------


def _invitation_for_outsider(world):
    """An invitation to this workspace for the outsider's address: only they may accept it."""
    _invitation, token = invitation_create(
        workspace=world.workspace,
        email=world.user(OUTSIDER).email,
        role=Role.REQUESTER,
        actor=world.user(ADMIN),
    )
    return {"token": token}


def _outsider_joined(world):
    return Membership.objects.filter(workspace=world.workspace, user=world.user(OUTSIDER)).exists()


def _reset_link(world):
    """A valid reset link of a person of its own (signing a role in changes its last_login,
    which would void a link made for that role)."""
    user = _throwaway_member(world).user
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


MATRIX |= {
    # Signed-in people are sent on (redirect_authenticated_user); a POST without credentials shows
    # the form again. The form pages serve GET and POST only (Django's FormView would take PUT as
    # a POST, and its OPTIONS); the confirmation pages are Django's TemplateViews: GET, HEAD and
    # OPTIONS (the Allow header).
    "login": served(GET={**everyone(302), ANONYMOUS: 200}, POST={**everyone(302), ANONYMOUS: 200}),
    "logout": served(POST=everyone(302), OPTIONS=everyone(200)),
    "password_change": served(GET=signed_in(200), POST=signed_in(200)),
    "password_change_done": served(
        GET=signed_in(200), HEAD=signed_in(200), OPTIONS=signed_in(200), unserved=signed_in(405)
    ),
    "password_reset": served(GET=everyone(200), POST=everyone(200)),
    "password_reset_done": served(GET=everyone(200), HEAD=everyone(200), OPTIONS=everyone(200)),
    # A valid link is exchanged for a session-held token and redirected to the form.
    "password_reset_confirm": served(GET=everyone(302), POST=everyone(302), kwargs=_reset_link),
    "password_reset_complete": served(GET=everyone(200), HEAD=everyone(200), OPTIONS=everyone(200)),
    # The old /accounts/ address of the account page: a permanent redirect for GET and HEAD.
    "accounts/": served(GET=everyone(301), HEAD=everyone(301)),
    "workspace_new": served(GET=signed_in(200), POST=signed_in(200), unserved=signed_in(405)),
    "invitation_accept": served(
        GET={**signed_in(403), OUTSIDER: 200},
        POST=({**signed_in(403), OUTSIDER: 302}, {"applied": lambda world, kwargs: _outsider_joined(world)}),
        kwargs=_invitation_for_outsider,
    ),
}

# Single sign-on's way in (workspaces/sso_views.py), reached signed out under /accounts/sso/. The
# world's workspace has no provider set up: its sign-in and callback are 404, as for a workspace
# that does not exist (the flows themselves are in tests/workspaces/test_sso_flow.py).
MATRIX |= {
    "sso_start": served(GET=everyone(200)),
    "sso_login": served(GET=everyone(404), kwargs=lambda world: {"slug": world.workspace.slug}),
    "sso_callback": served(GET=everyone(404), kwargs=lambda world: {"slug": world.workspace.slug}),
}
