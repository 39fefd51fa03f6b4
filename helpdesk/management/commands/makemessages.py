"""``makemessages`` that reads the Jinja2 templates too (templates/jinja2/*.jinja, helpdesk/jinja.py), and
``N_`` (gettext_noop) calls.

Django's command reads templates with its own engine's syntax, which does not see ``_("…",
name=value)`` nor ``ngettext(…)``. A ``.jinja`` file's texts are found by Jinja2's own parser
and handed to xgettext as the Python calls they are, each on its template line.
"""

import jinja2
from django.core.management.commands import makemessages


def jinja_as_python(source: str) -> str:
    """The translatable calls of a Jinja2 template, as Python source on the same lines."""
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    lines: dict[int, list[str]] = {}
    for lineno, _function, message in env.extract_translations(source):
        texts = [message] if isinstance(message, str) else [m for m in message if m is not None]
        if len(texts) == 1:
            call = f"gettext({texts[0]!r})"
        else:
            call = f"ngettext({texts[0]!r}, {texts[1]!r}, n)"
        lines.setdefault(lineno, []).append(call)
    last = max(lines, default=0)
    return "\n".join("; ".join(lines.get(number, [])) for number in range(1, last + 1)) + "\n"


class BuildFile(makemessages.BuildFile):
    def preprocess(self):
        if not self.translatable.file.endswith(".jinja"):
            return super().preprocess()
        with open(self.path, encoding="utf-8") as template:
            source = template.read()
        with open(self.work_path, "w", encoding="utf-8") as python:
            python.write(jinja_as_python(source))


class Command(makemessages.Command):
    build_file_class = BuildFile
    # ``N_`` is how modules here import gettext_noop (texts marked where defined, translated
    # where shown); xgettext knows only the names Django passes it.
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=N_"]
