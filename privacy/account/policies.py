"""Privacy policy and terms versions: publishing, the notice on the next visit, acknowledging.

Site staff publish a version (``policy_publish``), marked material or not. A signed-in person
whose accepted version is older sees a notice on every page until they accept the current one;
a material change (any material version since the one they accepted) asks them to review and
acknowledge it on a page with a button.

Cheap on every page: what is pending is worked out once at sign-in (``policy_notice_refresh``,
connected to ``user_logged_in``) and kept in the session with a marker of the newest published
version. Each page compares that marker with the newest marker in the cache (60 seconds, cleared
on publish): no query unless something was published since.
"""

from dataclasses import asdict, dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from privacy.account.models import PERSON_POLICY_KINDS, PolicyAcceptance, PolicyKind, PolicyVersion
from privacy.audit import events

SESSION_KEY = "privacy_policy_notice"
CACHE_KEY = "privacy:policy-marker"
CACHE_SECONDS = 60
REQUEST_MARKER_ATTR = "_policy_marker"

VERSION_TAKEN = gettext_lazy(
    "There is already a {kind} version named “{version}”. Choose another version name."
)
NOTHING_TO_ACCEPT = gettext_lazy("There is nothing new to accept.")


@dataclass(frozen=True)
class PendingPolicy:
    id: int
    kind: str
    kind_label: str
    version: str
    material: bool


def _published():
    return PolicyVersion.objects.filter(published_at__lte=timezone.now())


def current_marker(request=None) -> int:
    """The id of the newest published version (0 when none): it changes on every publication.
    With ``request``, asked of the cache once per request (the gate and the notice both need it)."""
    remembered = getattr(request, REQUEST_MARKER_ATTR, None)
    if remembered is not None:
        return remembered
    return _remember(request, cache.get(CACHE_KEY))


def current_marker_with(request, keys: list[str]) -> tuple[int, dict]:
    """``current_marker(request)`` and the cache's values of ``keys``, in one cache round trip."""
    remembered = getattr(request, REQUEST_MARKER_ATTR, None)
    found = cache.get_many(keys if remembered is not None else [CACHE_KEY, *keys])
    marker = remembered if remembered is not None else _remember(request, found.pop(CACHE_KEY, None))
    return marker, found


def _remember(request, cached: int | None) -> int:
    marker = cached
    if marker is None:
        marker = _published().order_by("-pk").values_list("pk", flat=True).first() or 0
        cache.set(CACHE_KEY, marker, CACHE_SECONDS)
    if request is not None:
        setattr(request, REQUEST_MARKER_ATTR, marker)
    return marker


def policies_pending(user) -> list[PendingPolicy]:
    """For each kind, the current version when the person has not accepted it, and whether any
    version since their last accepted one is material. Two queries."""
    versions = list(_published().order_by("published_at", "pk"))
    accepted = set(PolicyAcceptance.objects.filter(user_id=user.pk).values_list("policy_id", flat=True))
    pending = []
    for kind in PERSON_POLICY_KINDS:
        of_kind = [v for v in versions if v.kind == kind]
        if not of_kind or of_kind[-1].pk in accepted:
            continue
        last_accepted = max((i for i, v in enumerate(of_kind) if v.pk in accepted), default=-1)
        newer = of_kind[last_accepted + 1 :]
        current = of_kind[-1]
        pending.append(
            PendingPolicy(
                id=current.pk,
                kind=kind.value,
                kind_label=str(kind.label),
                version=current.version,
                material=any(v.is_material for v in newer),
            )
        )
    return pending


def policy_notice_refresh(request, user=None) -> list[dict]:
    user = user or request.user
    cache.delete(CACHE_KEY)
    pending = [asdict(p) for p in policies_pending(user)]
    marker = _remember(request, None)
    request.session[SESSION_KEY] = {"marker": marker, "user": user.pk, "pending": pending}
    return pending


def policy_notice_for(request) -> list[dict]:
    """What the notice shows on this page; recomputed only when a new version was published."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return []
    state = request.session.get(SESSION_KEY)
    if not state or state.get("marker") != current_marker(request) or state.get("user") != user.pk:
        return policy_notice_refresh(request, user)
    # The label in the language of this page, not of the page that filled the session.
    return [{**p, "kind_label": PolicyKind(p["kind"]).label} for p in state["pending"]]


def on_user_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        policy_notice_refresh(request, user)


@transaction.atomic
def policy_accept(*, user, policy_ids, request=None) -> list[PolicyVersion]:
    """Record acceptance of the given published versions (ignores ones already accepted).
    Audits ``account.policy_accepted`` once per version. The caller refreshes the session's
    notice (``policy_notice_refresh``) after this returns."""
    versions = list(_published().filter(pk__in=list(policy_ids)))
    accepted = []
    for version in versions:
        _, created = PolicyAcceptance.objects.get_or_create(user=user, policy=version)
        if created:
            accepted.append(version)
            events.account_policy_accepted(user=user, version=version, request=request)
    return accepted


@transaction.atomic
def policy_publish(
    *, kind: str, version: str, summary: str, is_material: bool, published_at=None, actor=None, request=None
) -> PolicyVersion:
    """Publish a version. Audits ``settings.changed`` (account chain) naming kind, version and
    whether it is material. Everyone sees the notice from their next page (cache cleared)."""
    from django.core.exceptions import ValidationError

    if PolicyVersion.objects.filter(kind=kind, version=version).exists():
        raise ValidationError(
            {"version": VERSION_TAKEN.format(kind=PolicyKind(kind).label.lower(), version=version)}
        )
    policy = PolicyVersion(
        kind=kind,
        version=version,
        summary=summary,
        is_material=is_material,
        published_at=published_at or timezone.now(),
    )
    policy.full_clean()
    policy.save()
    events.policy_published(policy=policy, actor=actor, request=request)
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))
    return policy


def policy_history(user) -> list[PolicyAcceptance]:
    return list(
        PolicyAcceptance.objects.filter(user_id=user.pk).select_related("policy").order_by("-accepted_at")
    )


def policy_current(*, kind: str) -> PolicyVersion | None:
    """The newest published version of one policy kind, or None when none is published yet."""
    return _published().filter(kind=kind).order_by("-published_at", "-pk").first()


def policies_current() -> list[PolicyVersion]:
    """The current version of each policy kind that has one."""
    return [version for kind in PERSON_POLICY_KINDS if (version := policy_current(kind=kind)) is not None]


def policy_versions(*, ids) -> list[PolicyVersion]:
    """The versions ``ids`` (the ones a person is asked to accept), by kind."""
    return list(PolicyVersion.objects.filter(pk__in=list(ids)).order_by("kind"))


def policy_versions_recent(*, limit: int = 50) -> list[PolicyVersion]:
    return list(PolicyVersion.objects.order_by("-published_at", "-pk")[:limit])
