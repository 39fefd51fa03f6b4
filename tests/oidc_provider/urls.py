from django.contrib.auth import views as auth_views
from django.urls import include, path

from tests.oidc_provider import misbehave, seed_views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html"), name="login"),
    # Ahead of the library's own token endpoint: the same view, re-signed for ``stray-key`` clients.
    path("openid/token", misbehave.token),
    path("openid/", include("oidc_provider.urls", namespace="oidc_provider")),
    path("seed/users/", seed_views.add_user),
    path("seed/clients/", seed_views.add_client),
]
