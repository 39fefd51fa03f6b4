"""The language switcher (templates/language_switcher.html): for everyone, signed in or not."""

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from helpdesk.languages import offered
from privacy.account import profile as profile_services


@require_POST
def language_switch(request):
    """Remember the chosen language (a cookie; for a signed-in person also their profile) and go
    back to the page it was chosen on. An unknown language changes nothing."""
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    response = HttpResponseRedirect(target)
    language = offered(request.POST.get("language"))
    if language is None:
        return response
    if request.user.is_authenticated:
        profile_services.language_save(user=request.user, language=language, request=request)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response
