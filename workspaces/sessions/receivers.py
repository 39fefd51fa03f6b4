"""Sign-in and sign-out, connected in ``WorkspacesConfig.ready()``."""

from workspaces.sessions import services


def on_user_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        services.session_start(request=request, user=user)


def on_user_logged_out(sender, request, user, **kwargs):
    if request is not None and user is not None:
        services.session_end(request=request, user=user)
