"""A provider that misbehaves on purpose, per client: the tests register a client with a
``mode`` (kept in the client's name as ``mode:<mode>``) to get ID tokens a relying party must
refuse. The tokens still come from the real token endpoint, and all but ``stray-key`` are signed
with the provider's published key, so only the claims are wrong:

- ``wrong-iss``: another issuer; ``wrong-aud``: another audience; ``expired``: expired ten
  minutes ago; ``wrong-nonce``: a nonce the relying party never sent;
- ``stray-key``: signed by a key the JWKS does not hold (same ``kid``): a forged signature.
"""

import base64
import json
import time
from urllib.parse import unquote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from oidc_provider.models import Client
from oidc_provider.views import TokenView

MODE_PREFIX = "mode:"
_STRAY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def mode_of(client) -> str:
    return client.name[len(MODE_PREFIX) :] if client.name.startswith(MODE_PREFIX) else ""


def idtoken_hook(id_token, user, token, request, **kwargs):
    mode = mode_of(token.client)
    if mode == "wrong-iss":
        id_token["iss"] = "http://127.0.0.1:1/someone-else"
    elif mode == "wrong-aud":
        id_token["aud"] = "another-client"
    elif mode == "expired":
        id_token["iat"] = int(time.time()) - 1800
        id_token["exp"] = int(time.time()) - 600
    elif mode == "wrong-nonce":
        id_token["nonce"] = "not-the-nonce-you-sent"
    return id_token


def _client_id(request) -> str:
    if request.POST.get("client_id"):
        return request.POST["client_id"]
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        return unquote(base64.b64decode(auth[6:]).decode().split(":", 1)[0])
    return ""


@csrf_exempt
def token(request, *args, **kwargs):
    client = Client.objects.filter(client_id=_client_id(request)).first()
    response = TokenView.as_view()(request, *args, **kwargs)
    if client is None or mode_of(client) != "stray-key" or response.status_code != 200:
        return response
    body = json.loads(response.content)
    header = jwt.get_unverified_header(body["id_token"])
    claims = jwt.decode(body["id_token"], options={"verify_signature": False})
    pem = _STRAY_KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body["id_token"] = jwt.encode(claims, pem, algorithm="RS256", headers={"kid": header.get("kid")})
    return HttpResponse(json.dumps(body), content_type="application/json")
