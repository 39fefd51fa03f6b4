"""The public Get help form: a sign-up that carries a help request (README "A way in for requesters").

The visitor gets an unconfirmed account exactly like a sign-up (``signup_request``: the same
confirmation email, the same purge after ``SIGNUP_CONFIRMATION_HOURS``), and their request is held
server-side (``workspaces.intake.help_request_hold``) until the address is confirmed; then
tickets opens it (``tickets/intake.py``, on ``signup_confirmed``). An address that already has an
account gets an email pointing to the Get help link instead, and the page answers the same.
"""

from django.db import transaction
from django.urls import reverse

from helpdesk import outbound
from helpdesk.site import absolute_url
from privacy.account.signup import signup_request
from workspaces.intake import help_request_hold
from workspaces.models import User, Workspace


def _send_help_existing(user: User, workspace: Workspace) -> None:
    context = {
        "name": user.display_name,
        "workspace": workspace,
        "help_url": absolute_url(reverse("get_help", args=[workspace.slug])),
        "reset_url": absolute_url(reverse("password_reset")),
    }
    outbound.send(user.email, "help_existing", context, kind=outbound.SECURITY)


@transaction.atomic
def help_request_submit(
    *,
    workspace: Workspace,
    display_name: str,
    email: str,
    password: str,
    subject: str,
    description: str,
    policy_ids: tuple[int, int],
    request=None,
    age_confirmed: bool = False,
) -> None:
    """Start a sign-up holding this request for ``workspace``. Returns nothing: the caller's answer
    must not depend on whether the address has an account. Rate limits and the domain check are
    the caller's (``signup_rate_limit``, ``intake_refusal``)."""
    user = signup_request(
        display_name=display_name,
        email=email,
        password=password,
        policy_ids=policy_ids,
        request=request,
        existing_notice=lambda existing: _send_help_existing(existing, workspace),
        age_confirmed=age_confirmed,
    )
    if user is not None:
        help_request_hold(workspace=workspace, user=user, subject=subject, description=description)
