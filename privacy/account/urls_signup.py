"""Sign-up and the published policies under /accounts/ (mounted by helpdesk/urls.py)."""

from django.urls import path

from privacy.account import signup_views

urlpatterns = [
    path("signup/", signup_views.signup, name="signup"),
    path("signup/sent/", signup_views.signup_sent, name="signup_sent"),
    path("signup/confirm/<str:token>/", signup_views.signup_confirm, name="signup_confirm"),
    path("signup/reject/<str:token>/", signup_views.signup_reject, name="signup_reject"),
    path("policies/<slug:kind>/", signup_views.policy, name="policy"),
]
