"""``{% url %}`` with the URLs it reverses kept per process (a template builtin: it replaces
Django's tag in every template, helpdesk/settings.py ``TEMPLATES``).

Reversing a URL walks the URL patterns (57 µs on this project's): a ticket page reverses about
twenty, a list page a dozen, on every view, and the answer for the same view name and arguments
never changes while the process runs. Kept only for arguments that are text or integers (a
model instance's text could change); the key also holds what else a URL depends on (the
request's script prefix and URLconf, the language, the application namespace).
"""

import functools

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()
KEPT = 4096


@functools.lru_cache(maxsize=KEPT)
def _reverse(view_name, args, kwargs, current_app, script_prefix, urlconf, language) -> str:
    return reverse(view_name, args=list(args), kwargs=dict(kwargs), current_app=current_app)


def _current_app(request):
    """As Django's tag finds it: the request's ``current_app``, else its resolved namespace."""
    if hasattr(request, "current_app"):
        return request.current_app
    return getattr(getattr(request, "resolver_match", None), "namespace", None)


def _plain(value) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def kept_url(request, view_name, *args, **kwargs) -> str:
    """``reverse(view_name, args, kwargs)`` as the page of ``request`` reverses it, kept per
    process when every argument is text or an integer (Jinja2 templates' ``url()``)."""
    current_app = _current_app(request)
    if not all(_plain(value) for value in (view_name, *args, *kwargs.values())):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    key = (current_app, get_script_prefix(), get_urlconf(), get_language())
    return _reverse(view_name, args, tuple(sorted(kwargs.items())), *key)


class KeptURLNode(URLNode):
    def render(self, context):
        if self.asvar:
            return super().render(context)
        view_name = self.view_name.resolve(context)
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {name: value.resolve(context) for name, value in self.kwargs.items()}
        # kept_url reverses an argument it cannot keep (a model instance) as Django's tag does.
        url = kept_url(getattr(context, "request", None), view_name, *args, **kwargs)
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = django_url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
