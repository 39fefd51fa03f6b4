import os
import types
import uuid

import pytest
from django.core.cache import cache
from guardian.shortcuts import assign_perm

from helpdesk import ratelimit
from tests.factories import PASSWORD, MembershipFactory, QueueFactory, UserFactory, WorkspaceFactory
from tests.mail_support import smtp_server  # noqa: F401 (a real SMTP server on loopback)
from tests.matrix_support import build_world
from tests.oidc_provider.server import oidc_provider  # noqa: F401 (the real provider of the SSO tests)
from tests.tickets.ticket_helpers import new_ticket
from workspaces.models import QUEUE_PERMISSION, Role


@pytest.fixture(autouse=True)
def _plain_http_in_tests(settings, tmp_path):
    # CI runs with production settings (DEBUG off); the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "media")},
            },
        }
    settings.PASSWORD_HASHERS = [
        # Argon2 is what production uses (tested in test_user_model); tests sign in often.
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, with PostgreSQL's connection pool (Django's ``pool``
    option) closed before the database is dropped: left open, its threads went on refilling it
    after the run and logged a failed connection for each attempt."""
    yield
    from django.db import connections

    for connection in connections.all():
        # The pools are the backend class's, one per alias, whichever thread opened them.
        if connection.alias in getattr(type(connection), "_connection_pools", {}):
            connection.close_pool()


@pytest.fixture(autouse=True)
def _fresh_search_statistics():
    """The search's kept word statistics (tickets/search.py) are the database's of this test."""
    from tickets import search

    search.forget_word_shares()
    yield
    search.forget_word_shares()


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """Each test gets an empty cache of its own (rate-limit counters, markers), also when the run
    shares a Redis database with another run: keys get a prefix of this test, deleted after it."""
    prefix = f"test-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {alias: {**conf, "KEY_PREFIX": prefix} for alias, conf in settings.CACHES.items()}
    yield
    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def ratelimit_clock(monkeypatch):
    """The rate limiter's clock, frozen at midnight (the start of every window it uses), so a test
    that counts up to a limit never sees a window end halfway. Set ``.now`` to move it."""
    clock = types.SimpleNamespace(now=86400.0 * 20000)
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: clock.now))
    return clock


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(slug="acme", name="Acme")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(slug="globex", name="Globex")


@pytest.fixture
def queue(workspace):
    return QueueFactory(workspace=workspace, name="Support")


@pytest.fixture
def other_queue(workspace):
    return QueueFactory(workspace=workspace, name="Billing")


def make_member(workspace, role, **user_kwargs):
    return MembershipFactory(workspace=workspace, role=role, user=UserFactory(**user_kwargs))


@pytest.fixture
def admin(workspace):
    return make_member(workspace, Role.ADMIN)


@pytest.fixture
def agent(workspace, queue):
    membership = make_member(workspace, Role.AGENT)
    assign_perm(QUEUE_PERMISSION, membership.user, queue)
    return membership


@pytest.fixture
def requester(workspace):
    return make_member(workspace, Role.REQUESTER)


@pytest.fixture
def ticket(requester, queue):
    """One ticket of ``workspace`` in ``queue``, opened by ``requester`` through the service (so it
    is numbered, has its opening message and is audited like a real one)."""
    return new_ticket(requester, queue)


@pytest.fixture
def world(db):
    """Two workspaces with one person of every role, queues, tickets, notes and files
    (tests/matrix_support.py): the place to probe who may reach what."""
    return build_world()


@pytest.fixture
def login(client):
    def do_login(user_or_membership):
        user = getattr(user_or_membership, "user", user_or_membership)
        client.force_login(user)
        return client

    return do_login


def pytest_collection_modifyitems(config, items):
    # Browser journeys run last: while Chromium is open, Playwright's sync API keeps an event loop
    # running in the main thread, which async tests and async_to_sync cannot share.
    items.sort(key=lambda item: item.nodeid.startswith("tests/e2e/"))
