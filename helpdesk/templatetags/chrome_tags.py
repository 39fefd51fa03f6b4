"""``{% chrome "chrome/topbar.jinja" %}``: a piece of the page chrome, written once as a Jinja2
template (helpdesk/jinja.py) and rendered by both engines' base templates."""

from django import template
from django.template import engines
from django.utils.safestring import mark_safe

from helpdesk.jinja import CsrfInput

register = template.Library()


@register.simple_tag(takes_context=True)
def chrome(context, template_name: str):
    jinja = engines["jinja2"].env.get_template(template_name)
    values = context.flatten()
    request = values.get("request")
    if request is not None:
        # One per page, not one per piece of chrome.
        if "csrf_input" not in context.render_context:
            context.render_context["csrf_input"] = CsrfInput(request)
        values["csrf_input"] = context.render_context["csrf_input"]
    return mark_safe(jinja.render(values))  # noqa: S308  # nosec B308 B703 - Jinja2 autoescaped it
