"""The form renderer (``FORM_RENDERER``): Django's, with its plainest widget templates written in
Python.

Django renders every widget through templates: an ``<input>`` is two template renders, a
``<select>`` two plus two per option (``select_option.html`` and ``attrs.html``). A ticket page's
forms (status, priority, queue, assignee, custom fields) were hundreds of them on every view.
The templates below are rendered here instead, to the same text; any other template, or one of
these overridden by an app or the project, goes through Django's renderer as before
(tests/helpdesk/test_form_rendering.py compares the two).
"""

import html
from functools import cached_property
from pathlib import Path

import django
from django import forms
from django.forms.models import ModelChoiceIteratorValue
from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.translation import get_language

from helpdesk.fixed_choices import FixedChoices

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "checkbox",
        "color",
        "date",
        "datetime",
        "email",
        "file",
        "hidden",
        "input",
        "number",
        "password",
        "search",
        "tel",
        "text",
        "time",
        "url",
    )
)
SELECT_TEMPLATE = f"{WIDGETS}select.html"
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"
TEXTAREA_TEMPLATE = f"{WIDGETS}textarea.html"
DJANGO_FORM_TEMPLATES = Path(django.__file__).resolve().parent / "forms" / "templates"


def _text(value) -> bool:
    return isinstance(value, str | Promise | int) and not isinstance(value, bool)


def _escape(value) -> str:
    """What ``format_html`` makes of an argument (``conditional_escape``): already-safe text as
    it is, anything else escaped. Its own wrappers and checks were most of a form's cost: a
    ``<select>`` of fifty options called it a few hundred times."""
    if isinstance(value, Promise):
        value = str(value)
    as_html = getattr(value, "__html__", None)
    return as_html() if as_html is not None else html.escape(str(value))


# The builders return plain text, every value escaped where it is put in: Django's widget marks
# what the renderer returns as safe (``Widget._render``), as it does a template's output.


def attrs_html(attrs: dict) -> str:
    """``attrs.html``: `` name="value"`` each, a bare name for True, nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_escape(name)}")
        else:
            parts.append(f' {_escape(name)}="{_escape(value)}"')
    return "".join(parts)


def input_html(widget: dict) -> str:
    value = widget["value"]
    shown = f' value="{_escape(value)}"' if value is not None else ""
    return (
        f'<input type="{_escape(widget["type"])}" name="{_escape(widget["name"])}"{shown}'
        f"{attrs_html(widget['attrs'])}>"
    )


def textarea_html(widget: dict) -> str:
    value = widget["value"]
    attrs = attrs_html(widget["attrs"])
    return f'<textarea name="{_escape(widget["name"])}"{attrs}>\n{_escape(value or "")}</textarea>'


def option_html(option: dict) -> str:
    attrs = attrs_html(option["attrs"])
    return f'<option value="{_escape(option["value"])}"{attrs}>{_escape(option["label"])}</option>'


def select_html(widget: dict) -> str:
    parts = []
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_escape(group_name)}">')
        for option in group_choices:
            parts.append(f"\n  {option_html(option)}\n")
        if group_name:
            parts.append("\n  </optgroup>")
    return (
        f'<select name="{_escape(widget["name"])}"{attrs_html(widget["attrs"])}>{"".join(parts)}\n</select>'
    )


def _plain(widget: dict) -> bool:
    """Values the templates would print as ``str(value)``: text and numbers (a date or a float
    goes through localization in a template: those are left to it)."""
    values = [widget.get("name"), *widget.get("attrs", {}).values()]
    return all(_text(v) or v is None or isinstance(v, bool) for v in values)


class FastWidgetsRenderer(DjangoTemplates):
    @cached_property
    def _own_templates(self) -> frozenset[str]:
        """Those of the templates written here that still resolve to Django's own file."""
        names = {*INPUT_TEMPLATES, SELECT_TEMPLATE, OPTION_TEMPLATE, TEXTAREA_TEMPLATE}
        own = set()
        for name in names:
            origin = Path(self.get_template(name).origin.name).resolve()
            if origin.is_relative_to(DJANGO_FORM_TEMPLATES):
                own.add(name)
        return frozenset(own)

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None and template_name in self._own_templates and _plain(widget):
            html = self._render_widget(template_name, widget)
            if html is not None:
                return html
        return super().render(template_name, context, request=request)

    def _render_widget(self, template_name: str, widget: dict) -> str | None:
        if template_name in INPUT_TEMPLATES:
            value = widget.get("value")
            if value is not None and not _text(value):
                return None
            return input_html(widget)
        if template_name == TEXTAREA_TEMPLATE:
            value = widget.get("value")
            return textarea_html(widget) if value is None or isinstance(value, str) else None
        if template_name == SELECT_TEMPLATE:
            if OPTION_TEMPLATE not in self._own_templates:
                return None
            for _name, options, _index in widget["optgroups"]:
                for option in options:
                    if option.get("template_name") != OPTION_TEMPLATE or not _plain(option):
                        return None
                    if not isinstance(option.get("label"), str | Promise) or not _option_value(
                        option.get("value")
                    ):
                        return None
            return select_html(widget)
        return None


def _option_value(value) -> bool:
    # A model choice's value prints as its primary key (``ModelChoiceIteratorValue.__str__``).
    return value is None or _text(value) or isinstance(value, ModelChoiceIteratorValue)


# Rendered selects kept (KeptSelect), at most this many; all are dropped when it is reached.
SELECTS_KEPT = 256
_kept_selects: dict = {}


class KeptSelect(forms.Select):
    """A ``<select>`` of ``FixedChoices`` whose HTML is kept, per everything it is made of: its
    name, value, attributes, choices (labels as the page's language says them), the language
    and the renderer. The ticket list's filters are the same six selects on every view (the
    assignee's options are every agent of the workspace), built option by option each time:
    about 0.6 ms of a list page that costs 10. A select with any other kind of choices, or with
    a value or attribute that cannot be a key, is rendered as ``Select`` renders it."""

    def render(self, name, value, attrs=None, renderer=None):
        key = self._key(name, value, attrs, renderer)
        if key is None:
            return super().render(name, value, attrs, renderer)
        html = _kept_selects.get(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            if len(_kept_selects) >= SELECTS_KEPT:
                _kept_selects.clear()
            _kept_selects[key] = html
        return html

    def _key(self, name, value, attrs, renderer):
        if not isinstance(self.choices, FixedChoices):
            return None
        key = (
            type(self),
            type(renderer),
            self.template_name,
            self.option_template_name,
            get_language(),
            name,
            tuple(self.format_value(value)),
            tuple(self.attrs.items()),
            tuple((attrs or {}).items()),
            tuple((choice, str(label)) for choice, label in self.choices.pairs),
        )
        try:
            hash(key)
        except TypeError:
            return None
        return key
