"""The access matrix: every URL pattern x every method x every role, with the answer it must give.

The URLs come from the URL conf (``get_resolver()`` walked recursively), not from a hand-kept
list: every pattern must have an entry in one of the ``tests/<app>/matrix.py`` files (format and
roles in tests/matrix_support.py). Django's admin site is covered by one rule (``ADMIN_SITE``
in tests/helpdesk/matrix.py): nobody but a superuser gets past its login, whatever the page.

Four families of tests:

- completeness: a URL without an entry, an entry without a URL, a URL argument that names an
  object but has no cross-workspace probe: each fails naming the culprit;
- ``test_access_matrix``: each (URL, method, role) is one request against a World (two
  workspaces, every role, tickets, notes, queues, holds...). Served methods expect the entry's
  answers; every other method must be refused (405, or the 404/login a stranger gets first).
  ``applied`` checks prove refused requests changed nothing and allowed ones did their work;
- ``test_cross_workspace_probe``: every URL argument naming an object (``number``,
  ``message_id``, ``member_id``...) is replaced by the id of the same kind of object in the
  other workspace (``PROBES``), keeping this workspace's slug: every role, admin included, must
  get 404 (anonymous: the login page), and nothing of the other workspace may change;
- consistency: admin-only views and views of one ticket expect 404 from those who may not see.

The World is built once per module and each test runs in a savepoint rolled back after it, so
four thousand requests cost a few seconds of building instead of minutes.
"""

import importlib
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.urls import URLResolver, get_resolver, resolve, reverse

from tests.factories import UserFactory
from tests.matrix_support import (
    ADMIN,
    ADMIN_LOGIN,
    AGENT_WITHOUT_QUEUE,
    ANONYMOUS,
    LOGIN,
    METHODS,
    NOT_OBJECT_IDS,
    OUTSIDER,
    PROBES,
    REQUESTER_OTHER,
    ROLES,
    WORKSPACE_ROLE,
    build_world,
    foreign_fingerprint,
)
from workspaces.two_factor.signin import UNVERIFIED

WORKSPACE_PREFIX = "w/<slug:slug>/"
ADMIN_SITE_PREFIX = "django-admin/"
REQUIRED_MATRICES = {
    "tests/workspaces/matrix.py",
    "tests/tickets/matrix.py",
    "tests/privacy/matrix.py",
    "tests/helpdesk/matrix.py",
}
FORM = "application/x-www-form-urlencoded"

# (key, method) -> the roles a view answers today although the method is not one it serves (no
# method check at all, Django's FormView taking PUT as a POST, a redirect made before the method
# is looked at). Each such case runs as a strict xfail: once the view refuses the method with 405
# the run fails until its line is removed here. Empty since every view declares its methods
# (tests/helpdesk/test_methods.py); kept so a gap found later can be listed, not hidden.
KNOWN_METHOD_GAPS: dict[tuple[str, str], tuple[str, ...]] = {}


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
ADMIN_SITE = importlib.import_module("tests.helpdesk.matrix").ADMIN_SITE


class Route:
    """One URL pattern as the walk found it: its matrix key, full route and view."""

    def __init__(self, pattern, route: str, namespaces: list[str]):
        self.pattern = pattern
        self.route = route
        self.callback = pattern.callback
        self.name = ":".join([*namespaces, pattern.name]) if pattern.name else None
        self.key = self.name or route
        self.arguments = tuple(re.findall(r"<(?:[^>:]+:)?(\w+)>|\(\?P<(\w+)>", route))
        self.arguments = tuple(a or b for a, b in self.arguments)

    @property
    def in_workspace(self) -> bool:
        return self.route.startswith(WORKSPACE_PREFIX)

    @property
    def in_admin_site(self) -> bool:
        return self.route.startswith(ADMIN_SITE_PREFIX)

    def url(self, kwargs: dict) -> str:
        if self.name:
            return reverse(self.name, kwargs=kwargs)
        # A pattern without a name: fill its arguments in (path() or re_path() syntax) and check
        # that the result resolves to this very pattern.
        url = re.sub(r"<(?:[^>:]+:)?(\w+)>", lambda m: str(kwargs[m[1]]), self.route)
        url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1]]), url)
        url = "/" + url.replace("^", "").replace("$", "")
        assert resolve(url).func == self.callback, f"{url} does not resolve to the pattern {self.route}"
        return url


def url_routes() -> list[Route]:
    """Every URL pattern of the site, walked recursively from the root URL conf."""
    found = []

    def walk(patterns, prefix, namespaces):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, [*namespaces, *filter(None, [pattern.namespace])])
            else:
                found.append(Route(pattern, route, namespaces))

    walk(get_resolver().url_patterns, "", [])
    return found


ROUTES = url_routes()
# Django's admin site: under the one ADMIN_SITE rule unless an entry of its own is in MATRIX.
ROUTES_BY_KEY = {route.key: route for route in ROUTES}


def entry_of(route: Route) -> dict | None:
    if route.key in MATRIX:
        return MATRIX[route.key]
    if route.in_admin_site:
        return ADMIN_SITE
    return None


def served_methods(entry: dict) -> set[str]:
    return set(entry["methods"])


def expected_for(route: Route, entry: dict, method: str, role: str):
    """The answer ``role`` must get for ``method`` at ``route``."""
    if method in served_methods(entry):
        expected = entry["expected"]
        if set(expected) <= set(METHODS):
            expected = expected[method]
        return expected[role]
    if "unserved" in entry:
        return entry["unserved"][role]
    return derived_refusal(route, role)


def derived_refusal(route: Route, role: str):
    """An unserved method's answer. Under /w/<slug>/ ``workspace_view`` answers first: login page
    for anonymous, 404 for strangers and for roles the view is not for; 405 for the others."""
    if not route.in_workspace:
        return 405
    if role == ANONYMOUS:
        return LOGIN
    allowed = route.callback.workspace_roles
    if role == OUTSIDER or (allowed is not None and WORKSPACE_ROLE[role] not in allowed):
        return 404
    return 405


def _cases():
    for route in ROUTES:
        entry = entry_of(route)
        if entry is None:
            continue  # test_every_url_has_a_matrix_entry names it
        methods = entry.get("methods_tried", METHODS)
        for method in methods:
            for role in ROLES:
                marks = []
                if role in KNOWN_METHOD_GAPS.get((route.key, method), ()):
                    marks = [pytest.mark.xfail(strict=True, reason="in KNOWN_METHOD_GAPS")]
                yield pytest.param(route.key, method, role, id=f"{route.key}-{method}-{role}", marks=marks)


def _probe_cases():
    for route in ROUTES:
        entry = MATRIX.get(route.key)
        probed = [argument for argument in route.arguments if argument in PROBES]
        if entry is None or not probed:
            continue
        variants = [(argument,) for argument in probed]
        if len(probed) > 1:
            variants.append(tuple(probed))
        for swapped in variants:
            for method in sorted(served_methods(entry)):
                marks = []
                if (route.key, method) in KNOWN_METHOD_GAPS:
                    marks = [pytest.mark.skip(reason="in KNOWN_METHOD_GAPS: the method's answer is wrong")]
                for role in ROLES:
                    yield pytest.param(
                        route.key,
                        swapped,
                        method,
                        role,
                        id=f"{route.key}-{'+'.join(swapped)}-{method}-{role}",
                        marks=marks,
                    )


# One World per module, each test in a savepoint ------------------------------------------------------


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        # Like TestCase's own class-wide atomic: code under test may open atomic(durable=True).
        connection.atomic_blocks[-1]._from_testcase = True
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(module_world, db):
    """The module's World; whatever the test writes is rolled back with its savepoint."""
    return module_world


def send(client, method: str, url: str, data: dict):
    if method in ("GET", "HEAD"):
        return getattr(client, method.lower())(url, data)
    if method == "POST":
        return client.post(url, data)
    return getattr(client, method.lower())(url, urlencode(data, doseq=True), content_type=FORM)


def assert_answer(response, expected, context: str):
    if expected == LOGIN:
        assert response.status_code == 302, f"{context}: {response.status_code}, expected the login page"
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL) + "?next="), context
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, f"{context}: {response.status_code}, expected the admin login"
        assert response["Location"].startswith(reverse("admin:login") + "?next="), context
    else:
        assert response.status_code == expected, f"{context}: {response.status_code} != {expected}"


def is_success(expected) -> bool:
    return expected not in (LOGIN, ADMIN_LOGIN) and expected < 400


# The matrix is complete and consistent -------------------------------------------------------------


def test_the_walk_finds_every_part_of_the_site():
    # Guards the walk itself: if it found nothing, every completeness test below would pass.
    keys = set(ROUTES_BY_KEY)
    assert {"home", "healthz", "login", "account", "workspace_new", "invitation_accept"} <= keys
    assert {"workspace_home", "ticket_list", "admin_members", "audit_log", "legal_holds"} <= keys
    assert {"admin:index", "admin:login", "admin:workspaces_workspace_changelist"} <= keys
    assert "accounts/" in keys  # a pattern without a name is keyed by its route


def test_every_url_has_a_matrix_entry():
    missing = sorted(route.key for route in ROUTES if entry_of(route) is None)
    assert not missing, (
        f"URLs with no entry in {', '.join(MATRICES)} (see tests/matrix_support.py): {missing}"
    )


def test_every_url_has_a_key_of_its_own():
    """Two patterns under one name would share one entry and only one would be requested."""
    keys = [route.key for route in ROUTES]
    assert len(keys) == len(set(keys)), sorted({key for key in keys if keys.count(key) > 1})


def test_a_superuser_does_get_into_the_admin_site(client, world):
    # The ADMIN_LOGIN answers are not true by accident: the same pages let a superuser in.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for name in (
        "admin:index",
        "admin:workspaces_workspace_changelist",
        "admin:workspaces_membership_changelist",
    ):
        assert client.get(reverse(name)).status_code == 200, name


def test_every_matrix_entry_names_a_url():
    unknown = sorted(set(MATRIX) - set(ROUTES_BY_KEY))
    assert not unknown, f"matrix entries for URLs that do not exist: {unknown}"


def test_the_per_app_matrices_are_found_and_do_not_overlap():
    assert REQUIRED_MATRICES <= set(MATRICES)
    assert sum(len(matrix) for matrix in MATRICES.values()) == len(MATRIX), "a URL key is in two matrices"


def test_every_url_argument_is_probed_or_declared():
    """An argument naming an object needs a foreign counterpart in PROBES (tests/matrix_support.py)."""
    unknown = sorted(
        f"{route.key}: <{argument}>"
        for route in ROUTES
        if not route.in_admin_site
        for argument in route.arguments
        if argument not in PROBES and argument not in NOT_OBJECT_IDS
    )
    assert not unknown, f"URL arguments with neither a cross-workspace probe nor a reason: {unknown}"


def test_known_method_gaps_name_real_cases():
    for (key, method), roles in KNOWN_METHOD_GAPS.items():
        assert key in MATRIX and method in METHODS and roles and set(roles) <= set(ROLES), (key, method)


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_every_entry_is_well_formed(key):
    entry = MATRIX[key]
    route = ROUTES_BY_KEY.get(key)
    assert set(entry) <= {"kwargs_factory", "methods", "expected", "unserved", "methods_tried"}, key
    assert entry["methods"] and set(entry["methods"]) <= set(METHODS), key
    expected = entry["expected"]
    per_method = expected if set(expected) <= set(METHODS) else dict.fromkeys(entry["methods"], expected)
    assert set(per_method) == set(entry["methods"]), f"{key}: expected and methods name different methods"
    for by_role in [*per_method.values(), entry.get("unserved", dict.fromkeys(ROLES))]:
        assert set(by_role) == set(ROLES), f"{key}: roles {sorted(set(ROLES) ^ set(by_role))}"
    if route is not None and route.in_workspace:
        for method in METHODS:
            assert expected_for(route, entry, method, ANONYMOUS) == LOGIN, f"{key} {method}: anonymous"
            assert expected_for(route, entry, method, OUTSIDER) == 404, f"{key} {method}: outsider"


def test_every_workspace_view_resolves_the_workspace_at_the_edge():
    for route in ROUTES:
        if route.in_workspace:
            assert hasattr(route.callback, "workspace_roles"), f"{route.key} is not wrapped in workspace_view"


def test_views_limited_to_admins_are_expected_to_404_for_everyone_else():
    """The decorator and the matrix agree: an admin-only view never lets another role through."""
    for route in ROUTES:
        if not route.in_workspace or route.key not in MATRIX or route.callback.workspace_roles != (ADMIN,):
            continue
        for method in METHODS:
            for role in ROLES:
                if role not in (ADMIN, ANONYMOUS):
                    assert expected_for(route, MATRIX[route.key], method, role) == 404, (
                        route.key,
                        method,
                        role,
                    )


def test_views_of_one_ticket_are_expected_to_404_for_who_cannot_see_it():
    """Derived from the URL: a ``number`` names world.ticket (queue Support, its requester's), so
    the agent of another queue and another requester get 404 for every method it serves."""
    for route in ROUTES:
        if "number" not in route.arguments or route.key not in MATRIX:
            continue
        for method in served_methods(MATRIX[route.key]):
            for role in (AGENT_WITHOUT_QUEUE, REQUESTER_OTHER, OUTSIDER):
                assert expected_for(route, MATRIX[route.key], method, role) == 404, (route.key, method, role)


def sign_in_fully(client, user) -> None:
    """Signed in with every step passed: a person with a second factor (a passkey made by an
    entry's kwargs) has also passed it, so the page answers rather than the verify redirect."""
    client.force_login(user)
    session = client.session
    session.pop(UNVERIFIED, None)
    session.save()


# Every URL x method x role -------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "method", "role"), list(_cases()))
def test_access_matrix(client, world, key, method, role):
    route = ROUTES_BY_KEY[key]
    entry = entry_of(route)
    kwargs = entry["kwargs_factory"](world)
    if route.in_admin_site:  # one set of arguments for every admin page: each takes those it names
        kwargs = {name: value for name, value in kwargs.items() if name in route.arguments}
    if route.in_workspace:
        kwargs = {"slug": world.workspace.slug, **kwargs}
    url = route.url(kwargs)
    served = served_methods(entry)
    spec = entry["methods"].get(method) or {}
    # An unserved method carries the POST body, so a view that acts on any method is caught.
    body_spec = spec if method in served else entry["methods"].get("POST") or {}
    data = body_spec["data"](world, kwargs) if "data" in body_spec else {}
    if role != ANONYMOUS:
        sign_in_fully(client, world.user(role))

    response = send(client, method, url, data)

    expected = expected_for(route, entry, method, role)
    assert_answer(response, expected, f"{method} {url} as {role}")
    if method in served and "applied" in spec:
        allowed = is_success(expected)
        assert spec["applied"](world, kwargs) is allowed, f"{method} {url} as {role}: applied != {allowed}"
    if method not in served:
        for other_method, other_spec in entry["methods"].items():
            if "applied" in (other_spec or {}):
                assert other_spec["applied"](world, kwargs) is False, (
                    f"{method} {url} as {role} did what {other_method} does"
                )


# The other workspace's ids under this workspace's address ------------------------------------------


@pytest.mark.parametrize(("key", "swapped", "method", "role"), list(_probe_cases()))
def test_cross_workspace_probe(client, world, key, swapped, method, role):
    route = ROUTES_BY_KEY[key]
    entry = MATRIX[key]
    kwargs = entry["kwargs_factory"](world)
    for argument in swapped:
        kwargs[argument] = PROBES[argument](world)
    if route.in_workspace:
        kwargs = {"slug": world.workspace.slug, **kwargs}
    url = route.url(kwargs)
    spec = entry["methods"].get(method) or {}
    data = spec["data"](world, kwargs) if "data" in spec else {}
    before = foreign_fingerprint(world)
    if role != ANONYMOUS:
        sign_in_fully(client, world.user(role))

    response = send(client, method, url, data)

    assert_answer(response, LOGIN if role == ANONYMOUS else 404, f"{method} {url} as {role}")
    assert foreign_fingerprint(world) == before, f"{method} {url} as {role} changed the other workspace"


def test_the_probes_reach_objects_that_exist(world):
    """A probe with an id of nothing would pass for the wrong reason: every probe names a row of
    the other workspace (or of its member), and the foreign ticket's number is not one here."""
    assert not world.workspace.tickets.filter(number=PROBES["number"](world)).exists()
    assert world.other_workspace.tickets.filter(number=PROBES["number"](world)).exists()
    for argument, probe in PROBES.items():
        assert probe(world), argument
