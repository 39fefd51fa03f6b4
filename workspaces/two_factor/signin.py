"""The session state of a sign-in that still owes its second step.

Two ways in, one way out:

* The password form (``SecondFactorLoginView``) never calls ``login()`` for a person with a
  factor: it stores ``PENDING`` (who, which backend, where to go) and the session stays
  anonymous until the verify page passes, which then calls ``login()``.
* Any other path that calls django's ``login()`` (single sign-on, a confirmation link) is caught
  by ``on_user_logged_in``: if the person has a factor the session is marked ``UNVERIFIED`` and
  ``SecondFactorMiddleware`` lets it reach only the verify page and signing out; websockets see
  it as anonymous (``SecondFactorWebsocketGate``).
"""

import time

from django.contrib.auth import login

from workspaces.models import User
from workspaces.two_factor.services import user_has_factor

PENDING = "two_factor.pending"
UNVERIFIED = "two_factor.unverified"
# Set on the request by complete() so the login() it calls is not taken for another path.
PASSED_ATTR = "_two_factor_passed"
PENDING_SECONDS = 10 * 60


def pending_start(request, *, user, backend: str, next_url: str) -> None:
    # A new session key, so a key planted before the password step is not the one promoted later.
    request.session.cycle_key()
    request.session[PENDING] = {"user": user.pk, "backend": backend, "next": next_url, "since": time.time()}


def pending_clear(request) -> None:
    request.session.pop(PENDING, None)


def pending_user(request) -> User | None:
    """The person whose password passed in this session, while the second step waits (10 min)."""
    state = request.session.get(PENDING)
    if not isinstance(state, dict) or time.time() - state.get("since", 0) > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=state.get("user"), is_active=True).first()


def pending_next(request) -> str:
    state = request.session.get(PENDING) or {}
    return state.get("next") or ""


def is_unverified(request) -> bool:
    return bool(request.session.get(UNVERIFIED))


def user_to_verify(request) -> User | None:
    """Whom the verify page is for: a signed-in session marked unverified, or a pending one."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user if is_unverified(request) else None
    return pending_user(request)


def complete(request, user) -> None:
    """The second step passed: sign the person in (pending) or lift the mark (unverified)."""
    if request.user.is_authenticated:
        request.session.pop(UNVERIFIED, None)
        request.session.cycle_key()
        return
    backend = (request.session.get(PENDING) or {}).get("backend")
    pending_clear(request)
    setattr(request, PASSED_ATTR, True)
    login(request, user, backend=backend)


def on_user_logged_in(sender, request, user, **kwargs):
    """Any login() not made by complete() leaves a person with a factor owing the second step."""
    if request is None or getattr(request, PASSED_ATTR, False):
        return
    if user_has_factor(user):
        request.session[UNVERIFIED] = True


def session_owes_second_factor(session) -> bool:
    return bool(session.get(UNVERIFIED))
