"""The ticket list's rows (tickets.list_rows): ``{% ticket_rows tickets membership %}`` for the
page, ``{% ticket_row ticket membership %}`` for one row (the live rows' template)."""

from django import forms, template
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe

from tickets.list_rows import RowRenderer

register = template.Library()


@register.simple_tag
def ticket_rows(tickets, membership):
    return RowRenderer(membership).rows(tickets)


@register.simple_tag
def ticket_row(ticket, membership):
    return RowRenderer(membership).rows([ticket])


@register.filter
def list_field(bound_field):
    """A filter field as ``{{ field }}`` renders it: a ``<select>`` or a text input without the
    widget templates (one template per option was most of the filter form's time)."""
    widget = bound_field.field.widget
    is_select = isinstance(widget, forms.Select) and not widget.allow_multiple_selected
    if not is_select and type(widget) not in (forms.TextInput, forms.SearchInput):
        return str(bound_field)
    attrs = bound_field.build_widget_attrs({}, widget)
    if bound_field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", bound_field.auto_id)
    context = widget.get_context(bound_field.html_name, bound_field.value(), attrs)["widget"]
    if not is_select:
        # django/forms/widgets/input.html
        value = "" if context["value"] is None else f' value="{escape(context["value"])}"'
        kind, name = escape(context["type"]), escape(context["name"])
        html = f'<input type="{kind}" name="{name}"{value}{_attrs(context["attrs"])}>'
        # Safe: the type, name, value and attributes are escaped above.
        return mark_safe(html)  # noqa: S308  # nosec B308 B703
    out = [f'<select name="{escape(context["name"])}"{_attrs(context["attrs"])}>']
    for group_name, options, _index in context["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{escape(group_name)}">')
        out.extend(
            f'\n  <option value="{escape(option["value"])}"{_attrs(option["attrs"])}>'
            f"{conditional_escape(option['label'])}</option>"
            for option in options
        )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    # Safe: the name, attributes, values and labels are escaped above.
    return mark_safe("".join(out))  # noqa: S308  # nosec B308 B703


def _attrs(attrs: dict) -> str:
    """`` name="value"`` pairs as django/forms/widgets/attrs.html writes them."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )
