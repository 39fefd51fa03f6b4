from workspaces.models import Membership


def workspace_nav(request):
    """The signed-in person's workspaces, for the switcher in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return list(
            Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")
        )

    return {
        "nav_memberships": memberships,
        "current_membership": getattr(request, "membership", None),
    }
