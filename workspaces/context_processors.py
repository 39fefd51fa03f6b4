from workspaces.selectors import memberships_of


def workspace_nav(request):
    """The signed-in person's workspaces, for the switcher in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        return memberships_of(user=user)

    return {
        "nav_memberships": memberships,
        "current_membership": getattr(request, "membership", None),
    }
