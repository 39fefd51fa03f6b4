"""Access matrix of the project-level URLs: home, healthz and Django's admin site.

The entry format and roles are in tests/matrix_support.py. Every pattern of the admin site
(``django-admin/``, generated from the registered models) falls under ``ADMIN_SITE`` unless it
has an entry of its own here: nobody in the matrix is staff, so every page sends everyone to the
admin's login page, whatever the method. tests/test_permission_matrix.py also shows a superuser
does get in, so the rule is not true by accident.
"""

from tests.matrix_support import ADMIN, ADMIN_LOGIN, everyone, served, signed_in

# Any admin URL argument (object ids, content types, app labels) gets a real-looking value: the
# login check comes before any lookup.
ADMIN_ARGUMENTS = {
    "object_id": "1",
    "id": "1",
    "pk": "1",
    "content_type_id": "1",
    "app_label": "workspaces",
    "url": "x",
}


def _admin_kwargs(world):
    return dict(ADMIN_ARGUMENTS, object_id=str(world.workspace.pk), id=str(world.user(ADMIN).pk))


# The rule for every admin page without an entry below: GET and POST are tried as every role.
ADMIN_SITE = {
    **served(GET=everyone(ADMIN_LOGIN), POST=everyone(ADMIN_LOGIN), kwargs=_admin_kwargs),
    "methods_tried": ("GET", "POST"),
}

MATRIX = {
    # One membership each: straight to that workspace.
    "home": served(GET=signed_in(302), unserved=signed_in(405)),
    "healthz": served(GET=everyone(200)),
    # The language switcher, signed in or not: back to the page (tests/helpdesk/test_languages.py).
    "language_switch": served(POST=everyone(302)),
    # The admin's own pages, tried with every method: the index, its login (which shows its form
    # to anyone not staff), a changelist and a change page of the tenant models.
    "admin:index": served(GET=everyone(ADMIN_LOGIN), unserved=everyone(ADMIN_LOGIN)),
    # Django's own LoginView: HEAD as GET, its FormView treats PUT as POST, OPTIONS lists them.
    "admin:login": served(
        GET=everyone(200),
        HEAD=everyone(200),
        POST=everyone(200),
        PUT=everyone(200),
        OPTIONS=everyone(200),
        unserved=everyone(405),
    ),
    # Not staff: sent to the admin's index (which then asks for the admin login), any method.
    "admin:logout": served(GET=everyone(302), unserved=everyone(302)),
    "admin:workspaces_workspace_changelist": served(
        GET=everyone(ADMIN_LOGIN), POST=everyone(ADMIN_LOGIN), unserved=everyone(ADMIN_LOGIN)
    ),
    "admin:workspaces_membership_change": served(
        GET=everyone(ADMIN_LOGIN),
        POST=everyone(ADMIN_LOGIN),
        unserved=everyone(ADMIN_LOGIN),
        kwargs=_admin_kwargs,
    ),
}
