"""Nothing turns autoescaping off except where a reason is written down.

Django escapes every ``{{ value }}``; the ways around it are ``|safe`` (and ``|safeseq``),
``{% autoescape off %}`` in templates, and ``mark_safe``/``SafeString`` in Python. Each is a place
where a person's text could reach the page as HTML. The lists below hold the ones that exist,
each with why it cannot carry user content unescaped; a new one fails here until it is fixed or
added with its reason (the same idea as Zulip's semgrep rules against ``mark_safe``; semgrep
itself cannot be installed next to moto here, so these are AST and template scans).
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("helpdesk", "workspaces", "tickets", "privacy")

# (template path, the expression filtered |safe) -> why it holds no unescaped user content.
ALLOWED_SAFE_FILTERS: dict = {}

# (module path, enclosing function) -> why the string marked safe holds no unescaped user content.
ALLOWED_MARK_SAFE = {
    ("helpdesk/templatetags/form_tags.py", "_field_html"): (
        "help texts are written by developers in form classes (and Django's password validators); "
        "where one includes data (the sign-up policies' titles) it is built with format_html, "
        "which escapes that data"
    ),
    ("helpdesk/templatetags/form_tags.py", "form_fields"): (
        "a join of the error summary (a template, autoescaped), Django's rendered widgets and "
        "_field_html's format_html output"
    ),
    ("helpdesk/templatetags/chrome_tags.py", "chrome"): (
        "the output of a Jinja2 template of templates/chrome, rendered with autoescaping on "
        "(helpdesk/jinja.py)"
    ),
    ("helpdesk/jinja.py", "gettext"): (
        "the catalog's translated text of a message written in a template (trusted markup, as "
        "Jinja's and Django's gettext have it); every value put in goes through Markup's %, which "
        "escapes it (tests/helpdesk/test_jinja.py)"
    ),
    ("helpdesk/markdown.py", "render_markdown"): "the HTML is sanitized by nh3 (an allow-list) first",
    ("tickets/bodies.py", "message_html"): (
        "Message.body_html is written only by tickets.bodies.body_html, i.e. render_markdown's "
        "sanitized output, on every write path (tests/tickets/test_message_html.py)"
    ),
    ("tickets/list_rows.py", "rows"): (
        "every value put in a row is escaped where it is put in (escape_text, inline_html, or "
        "conditional_escape of tickets.search's escaped excerpts); hostile names, subjects, queues "
        "and tags are checked in tests/tickets/test_ticket_list.py"
    ),
    ("tickets/list_page.py", "bulk_bar"): (
        "the bulk bar's agent and queue options: each name goes through tickets.list_rows' "
        "inline_html or escape_text where it is put in (tests/tickets/test_bulk.py)"
    ),
    ("tickets/search.py", "_safe"): (
        "search highlights and excerpts: built only from _marked's pieces, each through html.escape "
        "with only <mark> tags added, html.escape'd text and literal markup; hostile subjects and "
        "bodies are checked in tests/tickets/test_search.py"
    ),
    ("tickets/message_render.py", "render"): (
        "MessagesRenderer.render: the fixed markup, labels escaped (or built with format_html) once "
        "per page, the stored sanitized body (tickets.bodies.message_html), the author through "
        "inline_text, and every other value (dates, translated sentences, the whole email) through "
        "escape; hostile names, files and emails are checked in tests/tickets/test_message_render.py"
    ),
    ("tickets/message_render.py", "render_all"): "a join of what MessagesRenderer.render marks safe",
    ("privacy/templatetags/privacy_audit.py", "visible_controls"): (
        "the value is escaped with conditional_escape first, only escaped <span> markers are added "
        "(unescaped only under {% autoescape off %}, which test_no_template_turns_autoescape_off bans)"
    ),
}

SAFE_FILTER = re.compile(r"([\w.\"'|: ]*?)\|\s*(safe|safeseq)\b")
# Django's {% autoescape off %} and Jinja2's {% autoescape false %}.
AUTOESCAPE_OFF = re.compile(r"{%-?\s*autoescape\s+(off|false)\s*-?%}")
MARKERS = frozenset({"mark_safe", "SafeString", "SafeText", "Markup"})


def template_files() -> list[Path]:
    found = sorted((ROOT / "templates").rglob("*.html")) + sorted((ROOT / "templates").rglob("*.jinja"))
    for package in PACKAGES:
        found += sorted((ROOT / package).rglob("templates/**/*.html"))
    return found


def safe_filters(text: str, name: str) -> list[tuple[str, str]]:
    """``(name, expression|safe)`` for every |safe / |safeseq inside ``{{ }}`` or a tag."""
    found = []
    for block in re.findall(r"{{(.*?)}}|{%(.*?)%}", text, flags=re.S):
        inner = "".join(block)
        for match in SAFE_FILTER.finditer(inner):
            expression = match[1].strip().split()[-1] if match[1].strip() else ""
            found.append((name, f"{expression}|{match[2]}"))
    return found


def mark_safe_calls(source: str, name: str) -> list[tuple[str, str]]:
    """``(name, enclosing function)`` for every call of mark_safe/SafeString in ``source``."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Call):
                callee = (
                    child.func.attr
                    if isinstance(child.func, ast.Attribute)
                    else getattr(child.func, "id", "")
                )
                if callee in MARKERS:
                    found.append((name, function or "<module>"))
            visit(child, function)

    visit(ast.parse(source, filename=name), None)
    return found


def python_files() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_no_template_turns_autoescape_off():
    offenders = [
        str(path.relative_to(ROOT)) for path in template_files() if AUTOESCAPE_OFF.search(path.read_text())
    ]
    assert offenders == [], f"{{% autoescape off %}} in: {offenders}"


def test_every_safe_filter_is_allowed_with_a_reason():
    found = {
        hit
        for path in template_files()
        for hit in safe_filters(path.read_text(), str(path.relative_to(ROOT)))
    }
    unexplained = sorted(found - set(ALLOWED_SAFE_FILTERS))
    assert unexplained == [], (
        "|safe turns escaping off: escape the value, or build it with format_html, or add it to "
        f"ALLOWED_SAFE_FILTERS with the reason it holds no user content: {unexplained}"
    )
    stale = sorted(set(ALLOWED_SAFE_FILTERS) - found)
    assert stale == [], f"ALLOWED_SAFE_FILTERS entries no template has any more: {stale}"


def test_every_mark_safe_is_allowed_with_a_reason():
    found = {
        hit
        for path in python_files()
        for hit in mark_safe_calls(path.read_text(), str(path.relative_to(ROOT)))
    }
    unexplained = sorted(found - set(ALLOWED_MARK_SAFE))
    assert unexplained == [], (
        "mark_safe trusts a string as HTML: use format_html/escape, or add it to ALLOWED_MARK_SAFE "
        f"with the reason it holds no unescaped user content: {unexplained}"
    )
    stale = sorted(set(ALLOWED_MARK_SAFE) - found)
    assert stale == [], f"ALLOWED_MARK_SAFE entries no module has any more: {stale}"


def test_the_scans_find_what_they_look_for():
    # Guards the scanners: a regex or AST walk that found nothing would pass every test above.
    assert safe_filters("<p>{{ body|safe }}</p>{% firstof a|safeseq %}", "t.html") == [
        ("t.html", "body|safe"),
        ("t.html", "a|safeseq"),
    ]
    assert safe_filters("{{ body|safer }} {{ body }}", "t.html") == []
    source = "from django.utils.safestring import mark_safe\ndef f(x):\n    return mark_safe(x)\n"
    assert mark_safe_calls(source, "m.py") == [("m.py", "f")]
    assert mark_safe_calls("import django\ny = django.utils.safestring.SafeString('<b>')\n", "m.py") == [
        ("m.py", "<module>")
    ]
    assert template_files() and python_files()
