"""The permission matrix: every workspace URL x method x role, with the answer it must give.

The list of URLs comes from the URL conf, not from a hand-kept list: every pattern whose full
route starts with ``w/<slug:slug>/`` must have an entry in one of the per-app matrices, every
``tests/<app>/matrix.py`` found next to this file (tests/workspaces/matrix.py and
tests/tickets/matrix.py at least; the entry format is documented in the former, the roles and
the World in tests/matrix_support.py). A new page without an entry fails
``test_every_workspace_url_has_a_matrix_entry``; a view not wrapped in ``workspace_view`` fails
``test_every_workspace_view_resolves_the_workspace_at_the_edge``.

Then each (URL, method, role) is one test: a fresh World, the role signed in (or not), one
request, the status compared with the matrix, and, for entries with an ``applied`` check, proof
that refused requests changed nothing and allowed ones did what they say.
"""

import importlib
from pathlib import Path

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLResolver, get_resolver, reverse

from tests.matrix_support import ADMIN, ANONYMOUS, HTTP_METHODS, LOGIN, OUTSIDER, ROLES

WORKSPACE_PREFIX = "w/<slug:slug>/"
REQUIRED_MATRICES = {"tests/workspaces/matrix.py", "tests/tickets/matrix.py"}


def _load_matrices() -> dict:
    """``tests/<app>/matrix.py`` -> its MATRIX, for every app folder that has one."""
    here = Path(__file__).resolve().parent
    return {
        f"tests/{path.parent.name}/matrix.py": importlib.import_module(
            f"tests.{path.parent.name}.matrix"
        ).MATRIX
        for path in sorted(here.glob("*/matrix.py"))
    }


MATRICES = _load_matrices()
MATRIX = {name: entry for matrix in MATRICES.values() for name, entry in matrix.items()}


def workspace_url_patterns() -> dict:
    """URL name -> pattern for every route under ``w/<slug:slug>/``, walked from the root conf."""
    found = {}

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith(WORKSPACE_PREFIX):
                found.setdefault(pattern.name, []).append(pattern)

    walk(get_resolver().url_patterns, "")
    return found


def expected_for(entry: dict, method: str, role: str):
    expected = entry["expected"]
    if set(expected) <= set(HTTP_METHODS):
        expected = expected[method]
    return expected[role]


def _cases():
    for name, entry in sorted(MATRIX.items()):
        for method in entry["methods"]:
            for role in ROLES:
                yield pytest.param(name, method, role, id=f"{name}-{method}-{role}")


# The matrix is complete and consistent -------------------------------------------------------------


def test_the_walk_finds_the_workspace_urls():
    # Guards the walk itself: if it found nothing, every completeness test below would pass.
    names = set(workspace_url_patterns())
    assert {"workspace_home", "ticket_list", "admin_members"} <= names


def test_every_workspace_url_has_a_matrix_entry():
    patterns = workspace_url_patterns()
    assert None not in patterns, "a URL under /w/<slug>/ has no name, so the matrix cannot list it"
    missing = sorted(set(patterns) - set(MATRIX))
    assert not missing, f"URL names with no entry in {', '.join(MATRICES)}: {missing}"


def test_every_matrix_entry_names_a_workspace_url():
    unknown = sorted(set(MATRIX) - set(workspace_url_patterns()))
    assert not unknown, f"matrix entries for URL names that do not exist under /w/<slug>/: {unknown}"


def test_the_per_app_matrices_are_found_and_do_not_overlap():
    assert REQUIRED_MATRICES <= set(MATRICES)
    assert sum(len(matrix) for matrix in MATRICES.values()) == len(MATRIX), "a URL name is in two matrices"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_entry_covers_every_role_and_method(name):
    entry = MATRIX[name]
    assert set(entry) == {"kwargs_factory", "methods", "expected"}, name
    assert entry["methods"] and set(entry["methods"]) <= set(HTTP_METHODS), name
    expected = entry["expected"]
    per_method = expected if set(expected) <= set(HTTP_METHODS) else dict.fromkeys(entry["methods"], expected)
    assert set(per_method) == set(entry["methods"]), f"{name}: expected and methods name different methods"
    for method, by_role in per_method.items():
        assert set(by_role) == set(ROLES), f"{name} {method}: roles {sorted(set(ROLES) ^ set(by_role))}"
        assert by_role[ANONYMOUS] == LOGIN, f"{name} {method}: anonymous visitors go to the login page"
        assert by_role[OUTSIDER] == 404, f"{name} {method}: another workspace's member must get 404"


def test_every_workspace_view_resolves_the_workspace_at_the_edge():
    for name, patterns in workspace_url_patterns().items():
        for pattern in patterns:
            assert hasattr(pattern.callback, "workspace_roles"), f"{name} is not wrapped in workspace_view"


def test_views_limited_to_admins_are_expected_to_404_for_everyone_else():
    """The decorator and the matrix agree: an admin-only view never lets another role through."""
    for name, patterns in workspace_url_patterns().items():
        if name not in MATRIX or patterns[0].callback.workspace_roles != (ADMIN,):
            continue  # a missing entry fails test_every_workspace_url_has_a_matrix_entry
        for method in MATRIX[name]["methods"]:
            for role in ROLES:
                if role not in (ADMIN, ANONYMOUS):
                    assert expected_for(MATRIX[name], method, role) == 404, (name, method, role)


# Every URL x method x role -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "method", "role"), list(_cases()))
def test_permission_matrix(client, world, name, method, role):
    entry = MATRIX[name]
    kwargs = entry["kwargs_factory"](world)
    url = reverse(name, kwargs={"slug": world.workspace.slug, **kwargs})
    spec = entry["methods"][method] or {}
    data = spec["data"](world, kwargs) if "data" in spec else {}
    if role != ANONYMOUS:
        client.force_login(world.user(role))

    response = getattr(client, method.lower())(url, data)

    expected = expected_for(entry, method, role)
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next=")
    else:
        assert response.status_code == expected, f"{method} {url} as {role}"
    if "applied" in spec:
        allowed = expected != LOGIN and expected < 400
        assert spec["applied"](world, kwargs) is allowed, f"{method} {url} as {role}: applied != {allowed}"
