"""Who may become a requester without an invitation, and the requests held until an address is
confirmed (README "A way in for requesters").

A workspace's ``intake`` says who gets in through its Get help link ``/help/<slug>/``: nobody
(``invited``, the default: the link answers 404, like a workspace that does not exist), anyone
signed in (``signup``), or also anonymous visitors whose request is held until they confirm the
address (``public``). ``intake_domains``, when set, limits both to addresses of those domains.
Nothing here lists workspaces: a person learns the link from the workspace itself.
"""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from privacy.audit import events
from workspaces.intake_models import HelpRequest
from workspaces.models import Intake, Membership, Role, User, Workspace
from workspaces.services import invitation_create, membership_create

DOMAIN_INVALID = "“{domain}” is not an email domain. Write domains such as example.com, separated by spaces."
DOMAIN_REFUSED = _("This workspace accepts requests only from addresses at {domains}.")
INTAKE_CLOSED = _("This workspace does not accept new requesters.")
DOMAIN_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

# Selectors ---------------------------------------------------------------------------------------


def intake_domains_parse(text: str) -> list[str]:
    """The domains of a space- or comma-separated list, lower case, without a leading "@"."""
    domains = []
    for raw in re.split(r"[\s,;]+", (text or "").strip().lower()):
        domain = raw.lstrip("@")
        if not domain:
            continue
        if not DOMAIN_PATTERN.match(domain):
            raise ValidationError({"intake_domains": DOMAIN_INVALID.format(domain=raw)})
        if domain not in domains:
            domains.append(domain)
    return domains


def intake_domains_text(workspace: Workspace) -> str:
    return ", ".join(intake_domains_parse(workspace.intake_domains))


def intake_email_allowed(workspace: Workspace, email: str) -> bool:
    domains = intake_domains_parse(workspace.intake_domains)
    if not domains:
        return True
    return (email or "").rpartition("@")[2].strip().lower() in domains


def intake_refusal(workspace: Workspace, email: str) -> str | None:
    """Why ``email`` may not become a requester through the Get help link, or None."""
    if workspace.intake == Intake.INVITED:
        return INTAKE_CLOSED
    if not intake_email_allowed(workspace, email):
        return DOMAIN_REFUSED.format(domains=intake_domains_text(workspace))
    return None


def workspace_for_help_or_404(slug: str) -> Workspace:
    """The workspace whose Get help link this is; 404 when it does not exist or admits only
    invited people, so the link reveals nothing about a workspace that did not share it."""
    workspace = Workspace.objects.filter(slug__iexact=slug).exclude(intake=Intake.INVITED).first()
    if workspace is None:
        raise Http404
    return workspace


def membership_in(*, workspace: Workspace, user) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(workspace=workspace, user=user).select_related("workspace").first()


# Services ----------------------------------------------------------------------------------------


@transaction.atomic
def intake_settings_set(
    *, workspace: Workspace, intake: str, domains: str, actor=None, request=None
) -> Workspace:
    """Set who may open tickets without an invitation. Audits ``settings.changed`` (setting
    ``intake``) with the old and new values of what changed; nothing when nothing changed."""
    if intake not in Intake.values:
        raise ValidationError({"intake": "Choose one of the listed options."})
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    new = {"intake": intake, "intake_domains": " ".join(intake_domains_parse(domains))}
    old = {"intake": workspace.intake, "intake_domains": workspace.intake_domains}
    changed = [name for name in new if new[name] != old[name]]
    if not changed:
        return workspace
    for name in changed:
        setattr(workspace, name, new[name])
    workspace.full_clean()
    workspace.save(update_fields=changed)
    events.intake_settings_changed(
        workspace=workspace,
        old={name: old[name] for name in changed},
        new={name: new[name] for name in changed},
        actor=actor,
        request=request,
    )
    return workspace


@transaction.atomic
def requester_join(*, workspace: Workspace, user, request=None) -> Membership:
    """Make a signed-in ``user`` a requester of ``workspace`` through its Get help link.

    Returns their membership if they already have one (whatever its role). Refused
    (ValidationError) when the workspace admits only invited people or the address's domain is
    not listed. Audits ``member.added`` with the person as actor.
    """
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    existing = Membership.objects.filter(workspace=workspace, user=user).first()
    if existing is not None:
        return existing
    refusal = intake_refusal(workspace, user.email)
    if refusal:
        raise ValidationError(refusal)
    try:
        return membership_create(
            workspace=workspace, user=user, role=Role.REQUESTER, actor=user, request=request
        )
    except IntegrityError:
        # The same person's other click won (databases without row locks): theirs stands.
        return Membership.objects.get(workspace=workspace, user=user)


@transaction.atomic
def help_request_hold(*, workspace: Workspace, user, subject: str, description: str) -> HelpRequest:
    """Keep a request typed on the public form until ``user`` (an unconfirmed sign-up) confirms."""
    if workspace.intake != Intake.PUBLIC:
        raise ValidationError(INTAKE_CLOSED)
    held = HelpRequest(workspace=workspace, user=user, subject=subject.strip(), description=description)
    held.full_clean()
    held.save()
    return held


@transaction.atomic
def help_requests_release(*, user, request=None) -> list[tuple[Membership, HelpRequest]]:
    """The requests ``user`` held, now that they confirmed the address: each with the requester
    membership it needs (created when missing, audited ``member.added``). Every held request of
    the person is deleted; the caller opens tickets from the returned copies in the same
    transaction.

    Only the requests typed since the current sign-up began count: a sign-up that took over a
    pending address (``date_joined`` refreshed) must not confirm the earlier typist's words.
    A workspace closed to requesters since, or whose domains no longer admit the address, drops
    the request.
    """
    held = list(
        HelpRequest.objects.select_for_update().filter(user=user).select_related("workspace").order_by("pk")
    )
    HelpRequest.objects.filter(pk__in=[item.pk for item in held]).delete()
    released = []
    for item in held:
        if item.created_at < user.date_joined:
            continue
        workspace = item.workspace
        if workspace.intake != Intake.PUBLIC or not intake_email_allowed(workspace, user.email):
            continue
        membership = Membership.objects.filter(workspace=workspace, user=user).first()
        if membership is None:
            membership = membership_create(
                workspace=workspace, user=user, role=Role.REQUESTER, actor=user, request=request
            )
        released.append((membership, item))
    return released


@transaction.atomic
def requester_invite(*, workspace: Workspace, email: str, actor, request=None) -> tuple[Membership, object]:
    """Make the person at ``email`` a requester now, so staff can open a ticket on their behalf,
    and email them an invitation to take the account up. Returns (membership, invitation).

    An address without an account gets a placeholder: inactive, no usable password, address not
    confirmed (a pending sign-up, ``User.is_pending_signup``), which nobody can sign in to until
    the invitation link (or a password reset) proves the mailbox and sets a password. Its
    membership keeps the sign-up purge away from it. Refused (ValidationError) for a member.
    Audits ``member.invited`` and ``member.added`` (actor: the staff member).
    """
    invitation, _token = invitation_create(
        workspace=workspace, email=email, role=Role.REQUESTER, actor=actor, request=request
    )
    user = User.objects.select_for_update().filter(email__iexact=invitation.email).first()
    if user is None:
        user = User(email=invitation.email, is_active=False, email_confirmed_at=None)
        user.set_unusable_password()
        user.full_clean(validate_unique=False)
        user.save()
    membership = membership_create(
        workspace=workspace, user=user, role=Role.REQUESTER, actor=actor, request=request
    )
    return membership, invitation
