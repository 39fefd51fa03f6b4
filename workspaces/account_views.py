from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def account_home(request):
    """The person's own account page. Issue #6 grows it into the self-service page."""
    return render(request, "accounts/account.html")
