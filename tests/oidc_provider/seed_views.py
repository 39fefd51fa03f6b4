"""Seeding endpoints of the test provider: the test process adds accounts and clients (relying
parties) over HTTP, since it cannot use this project's database through its own Django.
Guarded by a per-run token; the provider listens on loopback only."""

import hmac
import json

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.http import HttpResponseForbidden, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from oidc_provider.models import Client, ResponseType

from tests.oidc_provider.claims import UNVERIFIED_GROUP


def _authorized(request) -> bool:
    return hmac.compare_digest(request.headers.get("X-Seed-Token", ""), settings.SEED_TOKEN)


@csrf_exempt
@require_POST
def add_user(request):
    if not _authorized(request):
        return HttpResponseForbidden()
    data = json.loads(request.body)
    user, _ = User.objects.update_or_create(
        username=data["username"], defaults={"email": data["email"], "first_name": data.get("name", "")}
    )
    user.set_password(data["password"])
    user.save()
    group, _ = Group.objects.get_or_create(name=UNVERIFIED_GROUP)
    if data.get("email_verified", True):
        user.groups.remove(group)
    else:
        user.groups.add(group)
    return JsonResponse({"id": user.pk})


@csrf_exempt
@require_POST
def add_client(request):
    if not _authorized(request):
        return HttpResponseForbidden()
    data = json.loads(request.body)
    client, _ = Client.objects.update_or_create(
        client_id=data["client_id"],
        defaults={
            "name": f"mode:{data['mode']}" if data.get("mode") else data["client_id"],
            "client_type": "confidential",
            "client_secret": data["client_secret"],
            "jwt_alg": "RS256",
            "require_consent": data.get("require_consent", False),
            "reuse_consent": False,
        },
    )
    client.redirect_uris = data["redirect_uris"]
    client.scope = ["openid", "email", "profile"]
    client.save()
    client.response_types.set([ResponseType.objects.get(value="code")])
    return JsonResponse({"id": client.pk})
