"""``{% who_saw_my_data_section %}`` on /account/ (privacy/account/data_access.py)."""

from django import template

from privacy.account.data_access import accesses_of

register = template.Library()


@register.inclusion_tag("privacy/_who_saw_my_data.html", takes_context=True)
def who_saw_my_data_section(context):
    user = context["request"].user
    return {"accesses": accesses_of(user) if user.is_authenticated else []}
