"""Every page answers only the HTTP methods it serves; any other method is 405.

The list of pages is the URL configuration itself (``get_resolver``), so a view added later is
checked without touching this file. Each view declares its methods: function views with
``require_GET`` / ``require_POST`` / ``require_http_methods``, class-based views with
``http_method_names`` and their handler methods. The test reads that declaration, then sends
every other method and expects 405 (an anonymous person may instead be sent to the sign-in
page, and an outsider gets the workspace's 404, before the method is looked at).
"""

import inspect
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.conftest import make_member
from workspaces.models import Role

PROBED = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# HTML forms only ever GET and POST; OPTIONS is Django's harmless "Allow" answer on class views.
SERVABLE = {"GET", "HEAD", "POST", "OPTIONS"}
# Django's own admin declares its methods itself and lives under its own prefix.
SKIPPED_PREFIXES = ("django-admin/",)
EXAMPLE_VALUES = {
    "int": "1",
    "slug": "acme",
    "str": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _fill(route: str) -> str:
    return _PARAMETER.sub(lambda m: EXAMPLE_VALUES[m["converter"] or "str"], route)


def url_patterns(patterns=None, prefix=""):
    """(example path, URLPattern) for every endpoint of the project."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + _fill(route), entry


def declared_methods(view) -> frozenset[str] | None:
    """The methods ``view`` declares it serves, or None when it declares nothing."""
    function = view
    while function is not None:
        closure = inspect.getclosurevars(function).nonlocals if inspect.isfunction(function) else {}
        if "request_method_list" in closure:  # django.views.decorators.http.require_http_methods
            return frozenset(closure["request_method_list"])
        function = getattr(function, "__wrapped__", None)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        names = getattr(view, "view_initkwargs", {}).get("http_method_names", view_class.http_method_names)
        served = {name.upper() for name in names if hasattr(view_class, name)}
        if "GET" in served and "head" in names:
            served.add("HEAD")  # View.setup() answers HEAD with get()
        return frozenset(served)
    return None


ENDPOINTS = list(url_patterns())


def _id(endpoint):
    path, pattern = endpoint
    return pattern.name or path


def test_the_walk_finds_the_pages():
    names = {pattern.name for _, pattern in ENDPOINTS}
    assert {"ticket_list", "ticket_detail", "admin_members", "audit_log_csv", "account", "login"} <= names
    for path, pattern in ENDPOINTS:
        assert resolve(path).func is pattern.callback, path


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_every_view_declares_the_methods_it_serves(endpoint):
    path, pattern = endpoint
    methods = declared_methods(pattern.callback)

    assert methods is not None, f"{path} ({pattern.name}) answers every method: add require_GET or similar"
    assert methods <= SERVABLE, f"{path} serves {sorted(methods - SERVABLE)}"


@pytest.fixture
def clients(db, workspace, admin):
    signed_in = Client()
    signed_in.force_login(admin.user)
    return {"anonymous": Client(), "admin": signed_in}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_methods_a_view_does_not_serve_answer_405(endpoint, clients):
    path, pattern = endpoint
    declared = declared_methods(pattern.callback) or frozenset()
    answers = {}
    for method in PROBED:
        if method in declared:
            continue
        for who, client in clients.items():
            answers[(method, who)] = client.generic(method, path).status_code

    for (method, who), status in answers.items():
        other = answers[(method, "admin" if who == "anonymous" else "anonymous")]
        # The admin of "acme" passes every workspace check, so they always reach the method
        # check; the anonymous person may be stopped earlier by the sign-in redirect.
        assert status in (405, 302, 404), f"{method} {path} as {who}: {status}"
        assert 405 in (status, other), f"{method} {path}: {status} / {other}, never 405"


@pytest.mark.django_db
def test_ticket_list_refuses_writes(client, workspace, admin, requester):
    for member in (admin, requester):
        client.force_login(member.user)
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)("/w/acme/tickets/")
            assert response.status_code == 405, (member.role, method)
            assert response["Allow"] == "GET"
        assert client.get("/w/acme/tickets/").status_code == 200


@pytest.mark.django_db
def test_an_outsider_still_gets_404_whatever_the_method(client, workspace, other_workspace):
    stranger = make_member(other_workspace, Role.ADMIN)
    client.force_login(stranger.user)

    assert client.delete("/w/acme/tickets/").status_code == 404
    assert client.put("/w/acme/admin/members/").status_code == 404
