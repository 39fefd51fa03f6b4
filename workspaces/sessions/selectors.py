"""Reading the person's session rows. Every query carries the person: a row of someone else
answers the same 404 as a missing one."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _

from workspaces.sessions.models import UserSession

NOT_FOUND = _("Not found.")


def sessions_of(*, user) -> list[UserSession]:
    return list(UserSession.objects.filter(user_id=user.pk).order_by("-last_seen_at", "-pk"))


def session_get_or_404(*, user, session_id: int) -> UserSession:
    row = UserSession.objects.filter(user_id=user.pk, pk=session_id).first()
    if row is None:
        raise Http404(NOT_FOUND)
    return row


def live_session_keys(keys: list[str], *, store, now) -> set[str]:
    """Which of ``keys`` the session store still holds, unexpired: one query for the database
    engines, one look-up per key for the others. The signed-cookie engine keeps nothing on the
    server, so nothing can be checked (or signed out) there: every key counts as alive."""
    if not keys:
        return set()
    if hasattr(store, "get_model_class"):
        model = store.get_model_class()
        return set(
            model.objects.filter(session_key__in=keys, expire_date__gt=now).values_list(
                "session_key", flat=True
            )
        )
    if store.__module__ == "django.contrib.sessions.backends.signed_cookies":
        return set(keys)
    return {key for key in keys if store().exists(key)}
