"""The edge never queries models itself: views, consumers and notifications reach rows only
through ``<app>.access`` (visibility and ``get_<thing>_or_404``), selectors and services.

A ``Model.objects`` at the edge is where a tenant filter gets forgotten: one such line is a
page that shows another workspace's rows. The access layer puts the workspace in every query
and answers the same 404 for "missing" and "not yours"; this test keeps the edge on it (the
same idea as Zulip's semgrep rule against unscoped queries in views).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("helpdesk", "workspaces", "tickets", "privacy")
# Any manager reached through a class: ``Ticket.objects``, ``User._base_manager``... Even an
# innocent-looking one (``User.objects.normalize_email``) is refused, so the rule needs no list
# of exceptions to keep up to date.
MANAGERS = frozenset({"objects", "_base_manager", "_default_manager"})


def is_edge_module(path: Path) -> bool:
    name = path.name
    return (
        name.startswith("views") or name.endswith("_views.py") or name in ("consumers.py", "notifications.py")
    )


def edge_modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts and is_edge_module(path):
                found.append(path)
    return found


def direct_queries(source: str, filename: str = "<source>") -> list[str]:
    """``filename:line: Name.objects`` for every manager reached directly in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Attribute) and node.attr in MANAGERS:
            owner = ast.unparse(node.value)
            found.append(f"{filename}:{node.lineno}: {owner}.{node.attr}")
    return sorted(found, key=lambda line: int(line.split(":")[1]))


def test_edge_modules_query_only_through_access_selectors_and_services():
    violations = []
    for path in edge_modules():
        violations += direct_queries(path.read_text(), str(path.relative_to(ROOT)))
    assert violations == [], (
        "Views, consumers and notifications must not query models directly; call the app's "
        "access module (visible_*/get_*_or_404), a selector or a service instead:\n" + "\n".join(violations)
    )


def test_the_edge_modules_are_found():
    names = {str(path.relative_to(ROOT)) for path in edge_modules()}
    assert {
        "tickets/views.py",
        "tickets/download_views.py",
        "tickets/consumers.py",
        "tickets/notifications.py",
        "workspaces/views.py",
        "workspaces/onboarding_views.py",
        "privacy/account/views.py",
        "privacy/retention/views.py",
        "privacy/auditlog/views.py",
        "helpdesk/views.py",
    } <= names
    assert "tickets/selectors.py" not in names
    assert "tickets/access.py" not in names


def test_the_checker_reports_each_direct_query_with_its_line():
    source = (
        "from tickets.models import Ticket\n"
        "from workspaces.models import Membership\n"
        "\n"
        "def view(request, membership, number):\n"
        "    ticket = Ticket.objects.get(number=number)\n"
        "    rows = Membership._base_manager.filter(user=request.user)\n"
        "    return type(ticket)._default_manager.none(), rows\n"
    )
    assert direct_queries(source, "tickets/views.py") == [
        "tickets/views.py:5: Ticket.objects",
        "tickets/views.py:6: Membership._base_manager",
        "tickets/views.py:7: type(ticket)._default_manager",
    ]


def test_the_checker_lets_access_functions_and_related_managers_pass():
    source = (
        "from tickets import access, selectors\n"
        "\n"
        "def view(request, membership, number):\n"
        "    ticket = access.get_ticket_or_404(membership, number)\n"
        "    return selectors.ticket_messages(membership=membership, ticket=ticket)\n"
    )
    assert direct_queries(source) == []
    assert is_edge_module(Path("privacy/account/signup_views.py"))
    assert is_edge_module(Path("privacy/auditlog/views.py"))
    assert not is_edge_module(Path("tickets/access.py"))
