"""Access matrix of the privacy app's URLs: the audit log, retention and legal holds under
``/w/<slug>/`` (admins only; every other role gets the stranger's 404 and an ``access.refused``
event), the person's own account under ``/account/``, sign-up and policies under ``/accounts/``.

The entry format, roles, ``LOGIN``, the shortcuts and the ``World`` are in tests/matrix_support.py.
"""

from privacy.retention.models import HoldScope, LegalHold, RetentionPolicy
from tests.matrix_support import (
    ADMIN,
    ANONYMOUS,
    REQUESTER_OWNER,
    admin_only,
    everyone,
    only,
    other_session_of,
    passkey_of,
    ready_export,
    served,
    signed_in,
)
from workspaces.sessions.models import UserSession


def _requests_about(user) -> bool:
    from privacy.requests.models import SubjectRequest

    return SubjectRequest.objects.filter(subject=user).exists()


def _throwaway_request(world) -> dict:
    """A request about a throw-away requester of the workspace (erasure acts on them only)."""
    from privacy.requests.models import SubjectRequest
    from tests.factories import MembershipFactory, UserFactory
    from workspaces.models import Role

    person = MembershipFactory(workspace=world.workspace, role=Role.REQUESTER, user=UserFactory()).user
    found = SubjectRequest.objects.create(workspace=world.workspace, subject=person, kind="erasure")
    return {"request_id": found.pk}


def _request(kwargs):
    from privacy.requests.models import SubjectRequest

    return SubjectRequest.objects.select_related("subject").get(pk=kwargs["request_id"])


def _restricted(kwargs) -> bool:
    from workspaces.models import Membership

    found = _request(kwargs)
    return Membership.objects.filter(
        workspace_id=found.workspace_id, user_id=found.subject_id, restricted_at__isnull=False
    ).exists()


MATRIX = {
    # Data-subject requests (privacy/requests): the console is for admins only.
    "subject_requests": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"email": world.user(REQUESTER_OWNER).email, "kind": "access"},
                "applied": lambda world, kwargs: _requests_about(world.user(REQUESTER_OWNER)),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "subject_request_detail": {
        "kwargs_factory": _throwaway_request,
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"status": "in_progress", "response": ""},
                "applied": lambda world, kwargs: _request(kwargs).status == "in_progress",
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "subject_request_export": {
        "kwargs_factory": _throwaway_request,
        "methods": {"POST": {}},
        "expected": {"POST": admin_only(200)},
    },
    "subject_request_erase": {
        "kwargs_factory": _throwaway_request,
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"confirm": "on"},
                "applied": lambda world, kwargs: _request(kwargs).status == "completed",
            },
        },
        "expected": {"POST": admin_only(302)},
    },
    "subject_request_restrict": {
        "kwargs_factory": _throwaway_request,
        "methods": {
            "POST": {
                "data": lambda world, kwargs: {"action": "restrict"},
                "applied": lambda world, kwargs: _restricted(kwargs),
            },
        },
        "expected": {"POST": admin_only(302)},
    },
    "audit_log": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": {"GET": admin_only(200)},
    },
    "audit_log_csv": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": {"GET": admin_only(200)},
    },
    # Retention and legal holds (issue 7): admins only; POSTs act on throw-away holds.
    "retention_settings": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                # Lengthening only (no confirmation step): the export period goes from 7 to 9 days.
                "data": lambda world, kwargs: _retention_post(exports_days=9),
                "applied": lambda world, kwargs: RetentionPolicy.objects.filter(
                    workspace=world.workspace, exports_days=9
                ).exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "legal_holds": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}},
        "expected": {"GET": admin_only(200)},
    },
    "legal_hold_new": {
        "kwargs_factory": lambda world: {},
        "methods": {
            "GET": {},
            "POST": {
                "data": lambda world, kwargs: {"scope": HoldScope.WORKSPACE, "reason": "Matrix hold"},
                "applied": lambda world, kwargs: LegalHold.objects.filter(reason="Matrix hold").exists(),
            },
        },
        "expected": {"GET": admin_only(200), "POST": admin_only(302)},
    },
    "legal_hold_detail": {
        "kwargs_factory": lambda world: {"hold_id": _throwaway_hold(world)},
        "methods": {"GET": {}},
        "expected": admin_only(200),
    },
    "legal_hold_release": {
        "kwargs_factory": lambda world: {"hold_id": _throwaway_hold(world)},
        "methods": {
            "POST": {
                "applied": lambda world, kwargs: LegalHold.objects.filter(
                    pk=kwargs["hold_id"], released_at__isnull=False
                ).exists()
            },
        },
        "expected": {"POST": admin_only(302)},
    },
}


def _throwaway_hold(world) -> int:
    return LegalHold.objects.create(
        workspace=world.workspace, scope=HoldScope.WORKSPACE, reason="Throw-away", placed_by=world.user(ADMIN)
    ).pk


def _retention_post(**days) -> dict:
    from privacy.retention.policies import days_fields, policy_defaults

    values = {**policy_defaults(), **days}
    data = {"tickets_action": values["tickets_action"], "attachments_basis": values["attachments_basis"]}
    for kind, name in days_fields().items():
        if values[name] is None:
            data[f"{kind}_forever"] = "on"
        else:
            data[f"{kind}_days"] = values[name]
    return data


# The person's own account under /account/, sign-up and policies under /accounts/ ----------------


def _own_export(world):
    """A finished export of the ticket's requester: theirs to download, nobody else's."""
    return {"export_id": ready_export(world.user(REQUESTER_OWNER)).pk}


def _no_kwargs_token(world):
    return {"token": "not-a-real-token"}


LOGIN_FIRST = signed_in(405)  # @login_required before the method check: anonymous visitors log in

MATRIX |= {
    "account": served(GET=signed_in(200), unserved=LOGIN_FIRST),
    # A POST without the form's fields is refused with the page and its errors (400).
    "account_profile": served(POST=signed_in(400), unserved=LOGIN_FIRST),
    "account_email": served(POST=signed_in(400), unserved=LOGIN_FIRST),
    "account_email_cancel": served(POST=signed_in(302), unserved=LOGIN_FIRST),
    "account_email_confirm": served(GET=everyone(400), POST=everyone(400), kwargs=_no_kwargs_token),
    "account_notifications": served(POST=signed_in(302), unserved=LOGIN_FIRST),
    "account_consents": served(POST=signed_in(302), unserved=LOGIN_FIRST),
    "account_export_create": served(POST=signed_in(302), unserved=LOGIN_FIRST),
    "account_export_download": served(
        GET=only(REQUESTER_OWNER, 200), kwargs=_own_export, unserved=LOGIN_FIRST
    ),
    # Without the password nothing is scheduled: the page again, 400.
    "account_delete": served(POST=signed_in(400), unserved=LOGIN_FIRST),
    "account_deleted": served(GET=everyone(200)),
    # An empty form is refused (400); a person files only with their own workspaces.
    "account_requests": served(GET=signed_in(200), POST=signed_in(400), unserved=LOGIN_FIRST),
    # Publishing policies is for site staff; nobody in the matrix is staff.
    "account_policies": served(GET=signed_in(404), POST=signed_in(404), unserved=LOGIN_FIRST),
    "account_policies_review": served(GET=signed_in(200), POST=signed_in(302), unserved=LOGIN_FIRST),
    # The first-use gate: without the box ticked, the page again (400).
    "account_policies_accept": served(GET=signed_in(200), POST=signed_in(400), unserved=LOGIN_FIRST),
    # Signed-in people have an account already: sent on.
    "signup": served(GET={**everyone(302), ANONYMOUS: 200}, POST={**everyone(302), ANONYMOUS: 200}),
    "signup_sent": served(GET=everyone(200)),
    "signup_confirm": served(GET=everyone(400), POST=everyone(400), kwargs=_no_kwargs_token),
    "signup_reject": served(GET=everyone(400), POST=everyone(400), kwargs=_no_kwargs_token),
    "policy": served(GET=everyone(200), kwargs=lambda world: {"kind": "privacy"}),
}


# Two-factor sign-in (workspaces/two_factor) and signed-in sessions (workspaces/sessions), both
# under the person's own account: another person's passkey or session is 404 (PROBES).


def _own_passkey(world):
    return {"passkey_id": passkey_of(world.user(REQUESTER_OWNER)).pk}


def _own_other_session(world):
    return {"session_id": other_session_of(world.user(REQUESTER_OWNER)).pk}


MATRIX |= {
    "two_factor_manage": served(GET=signed_in(200), unserved=LOGIN_FIRST),
    # Setting up: an empty POST (no code) shows the set-up page again.
    "two_factor_totp_setup": served(GET=signed_in(200), POST=signed_in(200), unserved=LOGIN_FIRST),
    "two_factor_passkey_add": served(GET=signed_in(200), POST=signed_in(200), unserved=LOGIN_FIRST),
    # Removing needs the password or a code (none sent: the page with the error, 400); there are
    # no recovery codes to renew for people without a factor: back to the page.
    "two_factor_totp_remove": served(POST=signed_in(400), unserved=LOGIN_FIRST),
    "two_factor_recovery_codes": served(POST=signed_in(302), unserved=LOGIN_FIRST),
    # Without the password or a code, removal is refused with the page (400); rename needs neither.
    "two_factor_passkey_remove": served(
        POST=only(REQUESTER_OWNER, 400), kwargs=_own_passkey, unserved=LOGIN_FIRST
    ),
    "two_factor_passkey_rename": served(
        POST=only(REQUESTER_OWNER, 302), kwargs=_own_passkey, unserved=LOGIN_FIRST
    ),
    # The second step of a sign-in: without a pending one, everyone is sent on (302).
    "two_factor_verify": served(GET=everyone(302), POST=everyone(302)),
    "two_factor_verify_passkey": served(POST=everyone(302)),
    "two_factor_cancel": served(POST=everyone(302)),
    "account_session_sign_out": served(
        POST=(
            only(REQUESTER_OWNER, 302),
            {
                "applied": lambda world, kwargs: (
                    not UserSession.objects.filter(pk=kwargs["session_id"]).exists()
                )
            },
        ),
        kwargs=_own_other_session,
        unserved=LOGIN_FIRST,
    ),
    "account_sessions_sign_out_others": served(POST=signed_in(302), unserved=LOGIN_FIRST),
    "account_sessions_sign_out_all": served(POST=signed_in(302), unserved=LOGIN_FIRST),
}
