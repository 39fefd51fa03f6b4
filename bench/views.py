from django.http import HttpResponse

FLOOR_BODY = "ok"


def floor(request):
    """The reference row: a bare view returning a constant, through the same middleware and server."""
    return HttpResponse(FLOOR_BODY, content_type="text/plain")
