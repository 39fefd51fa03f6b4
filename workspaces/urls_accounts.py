from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.http import require_http_methods
from django.views.generic import RedirectView

from workspaces import password_views
from workspaces.two_factor.signin_views import SecondFactorLoginView

# Django's form views also take PUT (as a POST), and some act before their method check (the reset
# link is read first): the method is checked before the view. GET shows the form, POST sends it.
form_page = require_http_methods(["GET", "POST"])

urlpatterns = [
    # Password first; a person with a second factor continues at two-factor/verify/.
    path("login/", form_page(SecondFactorLoginView.as_view()), name="login"),
    path("two-factor/", include("workspaces.two_factor.urls_signin")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        form_page(password_views.AuditedPasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        form_page(password_views.AuditedPasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        form_page(password_views.AuditedPasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    # The account page itself lives at /account/; an old bookmark of /accounts/ still gets there.
    path("", RedirectView.as_view(pattern_name="account", permanent=True, http_method_names=["get", "head"])),
]
