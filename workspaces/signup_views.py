from django.http import HttpResponse


def signup(request):
    return HttpResponse("Sign-up is being built.")


signup_sent = signup_confirm = signup_reject = signup
