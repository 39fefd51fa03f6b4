"""The language a person reads: pages (``LanguageMiddleware``), live fragments and emails
(``override_for``, entered by ``helpdesk.timezones.override_for`` with the reader's zone).

Only languages with a compiled catalog of our own (``locale/<code>/LC_MESSAGES/django.mo``) are
offered: a choice that changed nothing would be a setting that does nothing. English is the
source language and needs none. The order a page's language is chosen in: the signed-in person's
saved language, the switcher's cookie, the browser's Accept-Language, English.
"""

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

SOURCE_LANGUAGE = "en"


@lru_cache(maxsize=1)
def offered_languages() -> tuple[tuple[str, str], ...]:
    """(code, name in that language) of every language the interface speaks."""
    locale = Path(settings.BASE_DIR) / "locale"
    return tuple(
        (code, name)
        for code, name in settings.LANGUAGES
        if code == SOURCE_LANGUAGE or (locale / code / "LC_MESSAGES" / "django.mo").exists()
    )


def offered(code: str | None) -> str | None:
    """``code`` (or its base language: "de-AT" is "de") if it is offered, else None."""
    if not code:
        return None
    codes = {c for c, _ in offered_languages()}
    code = code.lower()
    for candidate in (code, code.split("-")[0]):
        if candidate in codes:
            return candidate
    return None


def language_of(user) -> str | None:
    """The saved language of ``user`` if it is offered; None for nobody or anonymous."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return offered(getattr(user, "language", ""))


def language_for_request(request) -> str:
    saved = language_of(getattr(request, "user", None))
    if saved:
        return saved
    cookie = offered(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if cookie:
        return cookie
    for code, _quality in translation.trans_real.parse_accept_lang_header(
        request.headers.get("Accept-Language", "")
    ):
        chosen = offered(code) if code != "*" else None
        if chosen:
            return chosen
    return SOURCE_LANGUAGE


@contextmanager
def override_for(user):
    """Render in ``user``'s saved language; a bare address (None) keeps the active language."""
    language = language_of(user)
    if language is None:
        yield
    else:
        with translation.override(language):
            yield


class LanguageMiddleware:
    """Activates the page's language (after AuthenticationMiddleware: it reads the saved one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = language_for_request(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        # The same URL answers in different languages for different visitors.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        return response


def switcher(request) -> dict:
    """Template context of the language switcher (templates/language_switcher.html)."""
    return {
        "offered_languages": offered_languages(),
        # Back to this page without its query: a search or a filter the person typed is not
        # echoed into every page's footer (tests/tickets/test_note_leak.py searches for a marker).
        "language_next": request.path if request.method == "GET" else "",
    }
