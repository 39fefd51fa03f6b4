"""The "Two-factor sign-in" panel of /account/, so the account view needs no change for it."""

from django import template

from workspaces.two_factor.services import factor_overview

register = template.Library()


@register.inclusion_tag("accounts/two_factor/_account_section.html", takes_context=True)
def two_factor_section(context):
    return {"two_factor": factor_overview(context["request"].user)}
