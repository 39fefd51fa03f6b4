"""Where a person is signed in (/account/#sessions): the list, what a row keeps (a hash of the
key, the key sealed, the /24 or /48 network, a device name), "last seen" written at most once
per interval, signing out one, all others or everywhere, a new password, export and erasure."""

import hashlib
import io
import json
import re
from importlib import import_module

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from privacy.account.erasure import erase_account_data, erasure_request
from privacy.account.export import write_archive
from privacy.audit import actions as audit_actions
from privacy.audit.models import AuditEvent
from privacy.personal_data import registry
from tests.concurrency import run_threads
from tests.factories import PASSWORD, UserFactory
from tests.privacy.selfservice_support import read_zip
from workspaces.sessions import services
from workspaces.sessions.devices import describe_user_agent, network_of, place_label
from workspaces.sessions.keys import hash_key, seal, unseal
from workspaces.sessions.models import UserSession

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
ACCOUNT = "/account/"
LOGIN = "/accounts/login/"
SESSIONS_TABLE = UserSession._meta.db_table


def browser(user, *, agent=FIREFOX_WINDOWS, ip="203.0.113.77") -> Client:
    """A client signed in through the real sign-in form, from ``ip`` with ``agent``."""
    client = Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)
    response = client.post(LOGIN, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def row_of(client) -> UserSession:
    return UserSession.objects.get(key_hash=hash_key(client.session.session_key))


def signed_in(client) -> bool:
    response = client.get(ACCOUNT)
    return response.status_code == 200


def events(action=audit_actions.AUTH_SESSIONS_SIGNED_OUT):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def session_items(html: str) -> list[str]:
    return re.findall(r'<li class="session-item.*?</li>', html, flags=re.S)


@pytest.fixture
def ann(db):
    return UserFactory(email="ann@example.test")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.test")


# The list ------------------------------------------------------------------------------------


def test_each_browser_is_listed_with_its_device_network_and_this_device_marked(ann, bob):
    browser(bob, agent=CHROME_LINUX, ip="192.0.2.1")  # someone else's: never on ann's list
    laptop = browser(ann, agent=FIREFOX_WINDOWS, ip="203.0.113.77")
    phone = browser(ann, agent=SAFARI_IPHONE, ip="2001:db8:abcd:12::1")

    page = phone.get(ACCOUNT).content.decode()

    items = session_items(page)
    assert len(items) == 2
    assert "Chrome" not in page and "192.0.2" not in page
    this, other = items
    assert "Safari on iPhone" in this and "This device" in this
    assert "2001:db8:abcd::/48" in this
    assert "Firefox 128 on Windows" in other and "This device" not in other
    assert "203.0.113.x" in other and "network 203.0.113.0/24" in other
    assert f'action="{reverse("account_session_sign_out", args=[row_of(laptop).pk])}"' in other
    assert "Sign out all other sessions" in page and "Sign out everywhere" in page
    # Seen from the laptop, the laptop is this device.
    (first, _) = session_items(laptop.get(ACCOUNT).content.decode())
    assert "Firefox 128 on Windows" in first and "This device" in first


def test_a_row_keeps_a_hash_and_the_sealed_key_never_the_key_or_the_full_address(ann):
    client = browser(ann, ip="203.0.113.77")
    key = client.session.session_key

    (row,) = UserSession.objects.filter(user=ann)
    stored = json.dumps(list(UserSession.objects.values()), default=str)
    assert key not in stored
    assert "203.0.113.77" not in stored
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert unseal(row.sealed_key) == key
    assert (row.network, row.device) == ("203.0.113.0/24", "Firefox 128 on Windows")
    # Nothing about the row went into the audit log either (only that someone signed in).
    assert key not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_a_rotated_secret_still_opens_keys_sealed_before_through_the_fallbacks(settings):
    original = settings.SECRET_KEY
    sealed = seal("k" * 32)
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-" + "y" * 30
    assert unseal(sealed) is None
    settings.SECRET_KEY_FALLBACKS = [original]
    assert unseal(sealed) == "k" * 32


def test_sessions_that_expired_or_left_the_store_are_not_listed_and_their_rows_go(ann):
    laptop = browser(ann, agent=FIREFOX_WINDOWS)
    phone = browser(ann, agent=SAFARI_IPHONE)
    # The store drops the laptop's session (clearsessions, a flush elsewhere): no signal tells us.
    Session.objects.filter(session_key=laptop.session.session_key).delete()

    items = session_items(phone.get(ACCOUNT).content.decode())

    assert len(items) == 1 and "Safari on iPhone" in items[0]
    assert UserSession.objects.filter(user=ann).count() == 1


def test_the_list_costs_the_same_queries_for_one_or_many_sessions(ann, django_assert_max_num_queries):
    phone = browser(ann, agent=SAFARI_IPHONE)
    phone.get(ACCOUNT)
    with CaptureQueriesContext(connection) as one:
        phone.get(ACCOUNT)
    queries_for_one = len(one.captured_queries)  # read now: the next request empties the log
    for _ in range(5):
        browser(ann)
    with django_assert_max_num_queries(queries_for_one):
        page = phone.get(ACCOUNT).content.decode()
    assert len(session_items(page)) == 6


# Last seen -------------------------------------------------------------------------------------


def _queries_on_sessions(captured) -> list[str]:
    return [q["sql"] for q in captured if SESSIONS_TABLE in q["sql"] or "django_session" in q["sql"]]


def test_last_seen_is_written_at_most_once_per_interval(ann, settings):
    settings.SESSION_LAST_SEEN_MINUTES = 5
    client = browser(ann)
    row = row_of(client)

    # Within the interval: not one query on the rows, and the session is not saved again (its
    # expiry does not slide).
    for _ in range(3):
        with CaptureQueriesContext(connection) as fresh:
            assert client.get("/").status_code == 200
        assert fresh.captured_queries  # the session and the user are read, as on any page
        assert [q for q in _queries_on_sessions(fresh.captured_queries) if not q.startswith("SELECT")] == []
        assert not any(SESSIONS_TABLE in q["sql"] for q in fresh.captured_queries)
    assert row_of(client).last_seen_at == row.last_seen_at

    # Six minutes later the marker has left the cache: one UPDATE, then quiet again.
    cache.delete(services.SEEN_CACHE_KEY.format(key_hash=row.key_hash))
    with CaptureQueriesContext(connection) as stale:
        client.get("/")
    writes = [q["sql"] for q in stale.captured_queries if SESSIONS_TABLE in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("UPDATE")
    assert row_of(client).last_seen_at > row.last_seen_at
    with CaptureQueriesContext(connection) as after:
        client.get("/")
    assert not any(SESSIONS_TABLE in q["sql"] for q in after.captured_queries)


def test_a_session_from_before_the_list_existed_gets_its_row_on_its_next_request(ann):
    client = browser(ann, ip="198.51.100.20")
    UserSession.objects.all().delete()
    cache.clear()

    client.get("/")

    row = row_of(client)
    assert (row.network, row.device) == ("198.51.100.0/24", "Firefox 128 on Windows")


@pytest.mark.django_db(transaction=True)
def test_two_requests_of_one_session_at_once_leave_one_row(ann):
    client = browser(ann)
    UserSession.objects.all().delete()
    cache.clear()
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value

    def request(_index):
        other = Client(REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT=FIREFOX_WINDOWS)
        other.cookies[django_settings.SESSION_COOKIE_NAME] = cookie
        assert other.get("/").status_code == 200

    run_threads(4, request)
    assert UserSession.objects.filter(user=ann).count() == 1


# Signing out -----------------------------------------------------------------------------------


def test_signing_out_another_session_sends_it_to_the_sign_in_page_and_is_audited(ann):
    laptop = browser(ann, agent=FIREFOX_WINDOWS)
    phone = browser(ann, agent=SAFARI_IPHONE)
    laptop_row, laptop_key = row_of(laptop), laptop.session.session_key

    response = phone.post(reverse("account_session_sign_out", args=[laptop_row.pk]), follow=True)

    assert response.redirect_chain[-1][0] == "/account/#sessions"
    assert "That session was signed out" in response.content.decode()
    following = laptop.get(ACCOUNT)
    assert following.status_code == 302 and following["Location"].startswith(LOGIN)
    assert not Session.objects.filter(session_key=laptop_key).exists()
    assert not UserSession.objects.filter(pk=laptop_row.pk).exists()
    assert signed_in(phone)
    (event,) = events()
    assert event.actor_id == ann.pk and event.workspace_id is None
    assert event.detail == {"scope": "one", "count": 1, "session": laptop_row.pk, "this_device": False}


def test_signing_out_this_device_from_its_own_row_signs_this_browser_out(ann):
    phone = browser(ann)
    response = phone.post(reverse("account_session_sign_out", args=[row_of(phone).pk]))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not signed_in(phone)
    assert events()[0].detail["this_device"] is True


def test_sign_out_all_other_sessions_keeps_this_one(ann, bob):
    others = [browser(ann, agent=FIREFOX_WINDOWS), browser(ann, agent=CHROME_LINUX)]
    bobs = browser(bob)
    phone = browser(ann, agent=SAFARI_IPHONE)

    response = phone.post(reverse("account_sessions_sign_out_others"), follow=True)

    assert "Signed out of 2 other sessions." in response.content.decode()
    assert not any(signed_in(client) for client in others)
    assert signed_in(phone) and signed_in(bobs)
    assert list(UserSession.objects.filter(user=ann)) == [row_of(phone)]
    (event,) = events()
    assert event.detail == {"scope": "others", "count": 2}
    # Nothing left to sign out: said so, and still audited as the person's act.
    again = phone.post(reverse("account_sessions_sign_out_others"), follow=True)
    assert "You were signed in nowhere else." in again.content.decode()
    assert events()[-1].detail == {"scope": "others", "count": 0}


def test_sign_out_everywhere_includes_this_browser(ann):
    laptop = browser(ann)
    phone = browser(ann, agent=SAFARI_IPHONE)

    response = phone.post(reverse("account_sessions_sign_out_all"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("login")
    assert "You were signed out everywhere" in response.content.decode()
    assert not signed_in(laptop) and not signed_in(phone)
    assert not UserSession.objects.filter(user=ann).exists()
    assert events()[0].detail == {"scope": "all", "count": 2}


def test_another_persons_session_answers_404_and_stays_signed_in(ann, bob):
    bobs = browser(bob)
    anns = browser(ann)
    bob_row = row_of(bobs)

    assert anns.post(reverse("account_session_sign_out", args=[bob_row.pk])).status_code == 404
    assert anns.post(reverse("account_session_sign_out", args=[bob_row.pk + 1000])).status_code == 404
    assert signed_in(bobs)
    assert UserSession.objects.filter(pk=bob_row.pk).exists()
    assert events() == []


def test_signing_out_is_post_only_and_csrf_protected(ann):
    signed = browser(ann)
    row = row_of(signed)
    client = Client(enforce_csrf_checks=True)
    client.cookies = signed.cookies
    url = reverse("account_session_sign_out", args=[row.pk])

    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert client.post(reverse("account_sessions_sign_out_all")).status_code == 403
    assert signed_in(client)
    assert UserSession.objects.filter(pk=row.pk).exists()


def test_signing_out_asks_for_a_signed_in_person(ann):
    anonymous = Client()
    response = anonymous.post(reverse("account_sessions_sign_out_others"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_signing_out_the_usual_way_removes_the_row(ann):
    client = browser(ann)
    row = row_of(client)
    client.post(reverse("logout"))
    assert not UserSession.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.cached_db"]
)
def test_signing_out_works_with_other_session_engines(ann, settings, engine):
    settings.SESSION_ENGINE = engine
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    laptop = browser(ann)
    phone = browser(ann, agent=SAFARI_IPHONE)
    assert len(session_items(phone.get(ACCOUNT).content.decode())) == 2

    phone.post(reverse("account_session_sign_out", args=[row_of(laptop).pk]))

    assert not signed_in(laptop)
    assert signed_in(phone)
    store = import_module(engine).SessionStore
    assert not store().exists(laptop.cookies[django_settings.SESSION_COOKIE_NAME].value)


# A new password --------------------------------------------------------------------------------


def test_changing_the_password_signs_out_every_other_session_and_keeps_this_row(ann):
    laptop = browser(ann, agent=FIREFOX_WINDOWS)
    phone = browser(ann, agent=SAFARI_IPHONE)
    phone_row = row_of(phone)
    new = "amber-lantern-river-77"

    response = phone.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )

    assert response.status_code == 302
    following = laptop.get(ACCOUNT)
    assert following.status_code == 302 and following["Location"].startswith(LOGIN)
    assert signed_in(phone)
    # The phone's row followed its cycled key: same row, same sign-in time.
    (row,) = UserSession.objects.filter(user=ann)
    assert (row.pk, row.created_at) == (phone_row.pk, phone_row.created_at)
    assert row.key_hash == hash_key(phone.session.session_key) != phone_row.key_hash
    (event,) = events()
    assert event.detail == {"scope": "password_changed", "count": 1}
    items = session_items(phone.get(ACCOUNT).content.decode())
    assert len(items) == 1 and "This device" in items[0]


def test_resetting_the_password_signs_out_every_session(ann, mailoutbox):
    laptop = browser(ann)
    stranger = Client()
    stranger.post(reverse("password_reset"), {"email": ann.email})
    (link,) = re.findall(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)", mailoutbox[0].body)
    form_url = stranger.get(link, follow=True).redirect_chain[-1][0]
    new = "amber-lantern-river-77"

    stranger.post(form_url, {"new_password1": new, "new_password2": new})

    assert not signed_in(laptop)
    assert not UserSession.objects.filter(user=ann).exists()
    assert events()[0].detail == {"scope": "password_reset", "count": 1}


# Personal data -----------------------------------------------------------------------------------


def test_the_export_lists_the_sessions(ann):
    browser(ann, agent=FIREFOX_WINDOWS, ip="203.0.113.77")
    browser(ann, agent=SAFARI_IPHONE, ip="2001:db8:abcd:12::1")
    out = io.BytesIO()
    write_archive(ann, out)
    with read_zip(out.getvalue()) as archive:
        data = json.loads(archive.read("data.json"))
        text = archive.read("data.json").decode()

    devices = {(s["device"], s["network"], s["place"]) for s in data["sessions"]}
    assert devices == {
        ("Firefox 128 on Windows", "203.0.113.0/24", "203.0.113.x"),
        ("Safari on iPhone", "2001:db8:abcd::/48", "2001:db8:abcd::/48"),
    }
    for row in UserSession.objects.filter(user=ann):
        assert row.created_at.isoformat() in text and row.last_seen_at.isoformat() in text
        assert row.sealed_key not in text and row.key_hash not in text
    assert registry.entry_for(UserSession).export == "sessions"


def test_erasure_signs_out_and_deletes_every_session_row(ann, bob):
    anns = [browser(ann), browser(ann, agent=SAFARI_IPHONE)]
    bobs = browser(bob)

    counts, _ = erase_account_data(ann)

    assert counts["session_rows_deleted"] == 2
    assert not UserSession.objects.filter(user=ann).exists()
    assert not any(signed_in(client) for client in anns)
    assert signed_in(bobs)


def test_asking_for_deletion_signs_out_every_browser_whatever_the_engine(ann, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    laptop = browser(ann)

    erasure_request(user=ann)

    assert not UserSession.objects.filter(user=ann).exists()
    assert not signed_in(laptop)


# Devices and networks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (FIREFOX_WINDOWS, "Firefox 128 on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_LINUX, "Chrome 131 on Linux"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge 131 on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
            "Samsung Internet 25 on Android",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "Chrome 131 on iPad",
        ),
        ("curl/8.5.0", "curl 8"),
        ("", "Unknown browser"),
        ("\x00" * 500, "Unknown browser"),
    ],
)
def test_the_device_name_a_person_recognises(agent, expected):
    assert describe_user_agent(agent) == expected


@pytest.mark.parametrize(
    ("ip", "network", "place"),
    [
        ("203.0.113.77", "203.0.113.0/24", "203.0.113.x"),
        ("::ffff:198.51.100.9", "198.51.100.0/24", "198.51.100.x"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48", "2001:db8:abcd::/48"),
        (None, "", "Unknown network"),
        ("not-an-address", "", "Unknown network"),
    ],
)
def test_an_address_is_kept_as_its_network_only(ip, network, place):
    assert network_of(ip) == network
    assert place_label(network) == place
