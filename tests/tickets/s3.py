"""S3 for tests: moto's server mode on loopback, spoken to over real HTTP by django-storages.

Import the fixtures into a test module (or a conftest)::

    from tests.tickets.s3 import moto_s3_endpoint_fixture, s3_bucket_fixture  # noqa: F401

Tests then ask for ``moto_s3_endpoint`` / ``s3_bucket``; ``s3_bucket`` creates a fresh private
bucket and points ``STORAGES["default"]`` at it.

moto 5.2 checks presigned links' signatures only loosely and does not check their expiry, so
the server here is wrapped in ``PresignedExpiryGate``: a request whose SigV4 query
``X-Amz-Date`` + ``X-Amz-Expires`` lies in the past gets the 403 real S3 answers. Everything
else is moto's own behaviour.
"""

import logging
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"
EXPIRED_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message></Error>"
)


class PresignedExpiryGate:
    """WSGI middleware: refuse SigV4 presigned requests past their expiry, as S3 does."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "X-Amz-Date" in query and "X-Amz-Expires" in query:
            signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            expires_at = signed_at + timedelta(seconds=int(query["X-Amz-Expires"][0]))
            if datetime.now(UTC) > expires_at:
                start_response(
                    "403 Forbidden",
                    [("Content-Type", "application/xml"), ("Content-Length", str(len(EXPIRED_BODY)))],
                )
                return [EXPIRED_BODY]
        return self.app(environ, start_response)


class S3TestServer(ThreadedMotoServer):
    """moto's threaded server with the expiry gate in front of its WSGI application."""

    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = PresignedExpiryGate(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", name="moto_s3_endpoint")
def moto_s3_endpoint_fixture():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = S3TestServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )


def storage_options(*, endpoint: str, bucket: str, expire: int = 120) -> dict:
    """The same options settings.py derives from S3_* variables, pointed at moto."""
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint,
        "region_name": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": expire,
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": "path",
    }


@dataclass
class S3Bucket:
    name: str
    endpoint: str
    client: object

    def use(self, settings, *, expire: int = 120) -> None:
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": storage_options(endpoint=self.endpoint, bucket=self.name, expire=expire),
            },
        }

    def keys(self) -> list[str]:
        return [entry["Key"] for entry in self.client.list_objects_v2(Bucket=self.name).get("Contents", [])]

    def versions(self, key: str) -> list[dict]:
        listing = self.client.list_object_versions(Bucket=self.name, Prefix=key)
        return [v for v in listing.get("Versions", []) + listing.get("DeleteMarkers", []) if v["Key"] == key]


@pytest.fixture(name="s3_bucket")
def s3_bucket_fixture(moto_s3_endpoint, settings):
    """A new private bucket on the moto server, used as the default storage for this test."""
    client = s3_client(moto_s3_endpoint)
    name = f"hd-test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    bucket = S3Bucket(name=name, endpoint=moto_s3_endpoint, client=client)
    bucket.use(settings)
    return bucket
