"""Every template parses.

A merge that keeps one side's `{% if %}` and the other side's lines can drop an `{% endif %}`;
the page then fails only when someone opens it. Parsing them all here catches it at once.
"""

from pathlib import Path

from django.conf import settings
from django.template.loader import get_template

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_every_template_parses():
    broken = {}
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".txt"}:
            name = str(path.relative_to(TEMPLATES))
            try:
                get_template(name)
            except Exception as error:  # noqa: BLE001 - any failure to load is what we report
                broken[name] = str(error)
    assert broken == {}
