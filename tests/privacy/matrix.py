"""Permission matrix of the privacy app's URLs under ``/w/<slug>/`` (the audit log).

The entry format is documented in tests/workspaces/matrix.py; roles, ``LOGIN``, the shortcuts
and the ``World`` are in tests/matrix_support.py. Both pages are GET-only reads for admins;
every other role gets the stranger's 404 (and an ``access.refused`` event).
"""

from privacy.retention.models import HoldScope, LegalHold, RetentionPolicy
from tests.matrix_support import ADMIN, admin_only

MATRIX = {
    "audit_log": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}, "POST": {}},
        "expected": {"GET": admin_only(200), "POST": admin_only(405)},
    },
    "audit_log_csv": {
        "kwargs_factory": lambda world: {},
        "methods": {"GET": {}, "POST": {}},
        "expected": {"GET": admin_only(200), "POST": admin_only(405)},
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
        "methods": {"GET": {}, "POST": {}},
        "expected": {"GET": admin_only(200), "POST": admin_only(405)},
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
            "GET": {},
            "POST": {
                "applied": lambda world, kwargs: LegalHold.objects.filter(
                    pk=kwargs["hold_id"], released_at__isnull=False
                ).exists()
            },
        },
        "expected": {"GET": admin_only(405), "POST": admin_only(302)},
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
