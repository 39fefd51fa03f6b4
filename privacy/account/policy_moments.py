"""Policies at the right moment (issue "Privacy, second wave", item 9).

- The first-use gate: a person who joined through an invitation (no sign-up form, so nothing
  accepted) and has never accepted a current person policy (terms, privacy) is sent to
  ``/account/policies/accept/`` from every page until they accept. What the gate decides is
  cached per person and newest-publication marker (``policies.current_marker``), not kept in
  the session: the session is not rewritten on every first page (workspaces/sessions).
- Creating a workspace records acceptance of the data-processing agreement (``PolicyKind.DPA``)
  for the organisation (a hook of ``workspaces.onboarding.workspace_start``).
- A version published as material is emailed, after commit and outside the request, to the
  people it affects: everyone who accepted an earlier version of that kind (for the DPA: the
  admins of workspaces whose creator accepted it).
"""

from urllib.parse import quote

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpdesk import outbound
from privacy.account import policies
from privacy.account.models import PERSON_POLICY_KINDS, PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.audit import events
from workspaces.models import Invitation, Membership, Role, User

# The sign-in time is part of the key: a new account (an invitation accepted) or a new sign-in
# is never answered from what was cached for an earlier one. The value is (marker, decision): a
# decision made before the newest publication is not used. Read with the marker in one round trip.
GATE_CACHE_KEY = "privacy:policy-gate:{user}:{signed_in}"
GATE_CACHE_SECONDS = 3600
ACCEPT_REQUIRED = _("Tick the box to accept the terms of service and the privacy policy.")
# Pages the gate never stands in front of: the person's own account (they may still read, export
# or delete what they have without accepting), signing in and out, the policies' texts, static
# files and the health check. The product itself (/, /w/..., /workspaces/new/) waits.
GATE_EXEMPT_PREFIXES = ("/account/", "/accounts/", "/static/", "/healthz")
ANNOUNCE_CHUNK = 500


# The first-use gate -------------------------------------------------------------------------------


def never_accepted(user) -> list[PolicyVersion]:
    """The current person policies of which the person has accepted no version at all."""
    accepted_kinds = set(
        PolicyAcceptance.objects.filter(user_id=user.pk).values_list("policy__kind", flat=True).distinct()
    )
    return [
        version
        for kind in PERSON_POLICY_KINDS
        if kind not in accepted_kinds and (version := policies.policy_current(kind=kind)) is not None
    ]


def gate_applies(user) -> bool:
    """An invited person (they skipped the sign-up form and its acceptance) with a current
    person policy they have never accepted."""
    if not Invitation.objects.filter(accepted_by_id=user.pk).exists():
        return False
    return bool(never_accepted(user))


def _gate_key(user) -> str:
    signed_in = user.last_login.timestamp() if user.last_login else 0
    return GATE_CACHE_KEY.format(user=user.pk, signed_in=signed_in)


def gate_needed(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    key = _gate_key(user)
    marker, found = policies.current_marker_with(request, [key])
    cached = found.get(key)
    if isinstance(cached, tuple) and cached[0] == marker:
        return cached[1]
    gate = gate_applies(user)
    cache.set(key, (marker, gate), GATE_CACHE_SECONDS)
    return gate


def gate_clear(request) -> None:
    cache.delete(_gate_key(request.user))


class PolicyGateMiddleware:
    """Sends a person who still owes their first acceptance to the gate page (GET and HEAD
    pages; a form posted meanwhile is answered by its view, so nothing typed is lost)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method in ("GET", "HEAD")
            and not request.path.startswith(GATE_EXEMPT_PREFIXES)
            and not request.path.startswith("/ws/")
            and gate_needed(request)
        ):
            return redirect(f"{reverse('account_policies_accept')}?next={quote(request.get_full_path())}")
        return self.get_response(request)


@transaction.atomic
def policies_accept_first(*, user, request=None) -> list[PolicyVersion]:
    """Record acceptance of every current person policy (``account.policy_accepted`` each)."""
    current = policies.policies_current()
    return policies.policy_accept(user=user, policy_ids=[v.pk for v in current], request=request)


# The data-processing agreement ------------------------------------------------------------------


def dpa_accept_on_start(*, workspace, owner, dpa_accepted: bool, request=None) -> None:
    """Hook of ``workspace_start``: record the creator's acceptance of the current DPA for the
    workspace (``account.policy_accepted`` and ``workspace.dpa_accepted``). Without a published
    DPA, or when the caller did not ask the person (a script, the demo data), nothing is
    recorded; the page's form does not create a workspace without the box ticked."""
    version = policies.policy_current(kind=PolicyKind.DPA)
    if version is None or not dpa_accepted:
        return
    policies.policy_accept(user=owner, policy_ids=[version.pk], request=request)
    events.workspace_dpa_accepted(workspace=workspace, version=version, actor=owner, request=request)


# Announcing material changes --------------------------------------------------------------------


def affected_people(policy: PolicyVersion):
    """Active people who accepted an earlier version of the policy's kind; for the DPA, the
    admins of the workspaces (who answer for the organisation)."""
    earlier = PolicyAcceptance.objects.filter(policy__kind=policy.kind).exclude(policy_id=policy.pk)
    people = User.objects.filter(is_active=True, pk__in=earlier.values("user_id"))
    if policy.kind == PolicyKind.DPA:
        admins = Membership.objects.filter(role=Role.ADMIN).values("user_id")
        people = User.objects.filter(is_active=True).filter(pk__in=admins)
    return people.order_by("pk")


def policy_change_announce(*, policy_id: int) -> int:
    """Email every affected person about a material version; returns how many were sent.
    Audits ``policy.change_announced`` with the count."""
    policy = PolicyVersion.objects.filter(pk=policy_id, is_material=True).first()
    if policy is None:
        return 0
    sent = 0
    url = reverse("account_policies_review")
    last = 0
    while True:
        chunk = list(affected_people(policy).filter(pk__gt=last)[:ANNOUNCE_CHUNK])
        if not chunk:
            break
        for user in chunk:
            sent += outbound.send(
                user,
                "policy_changed",
                {"policy": policy, "kind_label": policy.get_kind_display(), "review_path": url},
                kind=outbound.ACCOUNT,
            )
        last = chunk[-1].pk
    events.policy_change_announced(policy=policy, sent=sent)
    return sent


@shared_task(name="privacy.tasks.policy_change_announce")
def policy_change_announce_task(policy_id: int) -> int:
    return policy_change_announce(policy_id=policy_id)


def announce_on_commit(policy: PolicyVersion) -> None:
    """Schedule the announcement of a material version after the publication commits."""
    if policy.is_material:
        transaction.on_commit(lambda: policy_change_announce_task.delay(policy.pk), robust=True)
