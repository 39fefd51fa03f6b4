from workspaces.access import memberships_of


def workspace_nav(request):
    """The signed-in person's workspaces, for the switcher in the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def memberships():
        # Workspace pages read them with the current membership (workspaces.access).
        read = getattr(request, "nav_memberships", None)
        return read if read is not None else memberships_of(user=user)

    return {
        "nav_memberships": memberships,
        "current_membership": getattr(request, "membership", None),
    }
