"""Permission matrix of the privacy app's URLs under ``/w/<slug>/`` (the audit log).

The entry format is documented in tests/workspaces/matrix.py; roles, ``LOGIN``, the shortcuts
and the ``World`` are in tests/matrix_support.py. Both pages are GET-only reads for admins;
every other role gets the stranger's 404 (and an ``access.refused`` event).
"""

from tests.matrix_support import admin_only

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
}
