"""The admin audit log page, its CSV, and the account page's own events."""

import asyncio
import csv
import io
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from privacy.audit import actions
from privacy.audit import selectors as audit_selectors
from privacy.audit.log import audit_record
from privacy.audit.models import AuditEvent
from privacy.audit.selectors import ACCOUNT_EVENTS_LIMIT, PAGE_SIZE, AuditFilters
from privacy.auditlog.forms import CURSOR_ERROR, DATE_ORDER_ERROR
from privacy.auditlog.views import CSV_FILTER_ERROR, CSV_HEADER, FILTER_ERROR, _csv_lines_async, csv_safe_cell
from tests.factories import UserFactory
from tests.privacy.audit_support import request_for

pytestmark = pytest.mark.django_db

URL = "/w/acme/admin/audit/"
CSV_URL = "/w/acme/admin/audit.csv"


def _settings_events(workspace, count, **kwargs):
    return [
        audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"i": i}, **kwargs)
        for i in range(count)
    ]


def _shown_ids(response):
    return [event.pk for event in response.context["page"].events]


# Who may read it ------------------------------------------------------------------------------


def test_only_admins_of_the_workspace_reach_the_log(
    client, workspace, other_workspace, admin, agent, requester
):
    outsider_admin = UserFactory()
    from tests.factories import MembershipFactory

    MembershipFactory(workspace=other_workspace, user=outsider_admin, role="admin")
    for user in (agent.user, requester.user, outsider_admin):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.get(CSV_URL).status_code == 404
    client.logout()
    assert client.get(URL).status_code == 302
    client.force_login(admin.user)
    assert client.get(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_the_log_shows_only_this_workspaces_events(client, workspace, other_workspace, admin):
    mine = _settings_events(workspace, 2)
    _settings_events(other_workspace, 3)
    audit_record(action=actions.AUTH_LOGIN, actor=admin.user)
    client.force_login(admin.user)
    response = client.get(URL)
    assert _shown_ids(response) == [mine[1].pk, mine[0].pk]


def test_admin_nav_links_to_the_audit_log(client, workspace, admin, agent):
    client.force_login(admin.user)
    assert 'href="/w/acme/admin/audit/">Audit log</a>' in client.get("/w/acme/tickets/").content.decode()
    client.force_login(agent.user)
    assert "Audit log" not in client.get("/w/acme/tickets/").content.decode()


# Filters and paging ---------------------------------------------------------------------------


def test_filters_by_actor_action_target_and_dates(clock, client, workspace, admin, agent):
    early = audit_record(
        action=actions.MEMBER_ROLE_CHANGED, request=request_for("/", user=admin.user), workspace=workspace,
        target_type="workspaces.user", target_id=agent.user_id,
    )  # fmt: skip
    clock.advance(timedelta(days=2))
    late = audit_record(action=actions.SETTINGS_CHANGED, actor=agent.user, workspace=workspace)
    client.force_login(admin.user)

    assert _shown_ids(client.get(URL, {"actor": admin.user.email.upper()})) == [early.pk]
    assert _shown_ids(client.get(URL, {"action": actions.SETTINGS_CHANGED})) == [late.pk]
    assert _shown_ids(client.get(URL, {"target_type": "workspaces.user", "target_id": agent.user_id})) == [
        early.pk
    ]
    day = clock.now.date()
    assert _shown_ids(client.get(URL, {"date_from": day.isoformat()})) == [late.pk]
    assert _shown_ids(client.get(URL, {"date_to": (day - timedelta(days=1)).isoformat()})) == [early.pk]


def test_bad_filters_get_a_message_and_keep_the_input(client, workspace, admin):
    _settings_events(workspace, 1)
    client.force_login(admin.user)
    response = client.get(URL, {"date_from": "2026-05-02", "date_to": "2026-05-01", "actor": "ann@x.test"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response.context["page"] is None
    assert DATE_ORDER_ERROR.replace("“", "&ldquo;") in body or str(DATE_ORDER_ERROR) in body
    assert str(FILTER_ERROR) in body
    assert 'value="ann@x.test"' in body
    refused = client.get(CSV_URL, {"date_from": "nonsense"})
    assert (refused.status_code, refused.content.decode()) == (400, CSV_FILTER_ERROR)


def test_keyset_pagination_walks_every_row_once_without_offset_or_count(
    client, workspace, admin, django_assert_max_num_queries
):
    events = _settings_events(workspace, PAGE_SIZE * 2 + 7)
    newest_first = [event.pk for event in reversed(events)]
    client.force_login(admin.user)

    seen, params = [], {}
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = client.get(URL, params)
            page = response.context["page"]
            seen += _shown_ids(response)
            if not page.older:
                break
            params = {"before": page.older}
    assert seen == newest_first
    audit_sql = [
        q["sql"].upper() for q in queries.captured_queries if "PRIVACY_AUDITEVENT" in q["sql"].upper()
    ]
    assert audit_sql and not any(" OFFSET " in sql or "COUNT(" in sql for sql in audit_sql)

    # Back to newer pages from the last one.
    response = client.get(URL, {"after": response.context["page"].newer})
    assert _shown_ids(response) == newest_first[PAGE_SIZE : PAGE_SIZE * 2]
    assert response.context["page"].newer == newest_first[PAGE_SIZE]
    response = client.get(URL, {"after": response.context["page"].newer})
    assert _shown_ids(response) == newest_first[:PAGE_SIZE]
    assert response.context["page"].newer is None

    # Session, membership, page, EXISTS for the other direction (+ savepoints of the test client).
    with django_assert_max_num_queries(6):
        client.get(URL, {"before": newest_first[10]})


def test_pager_links_keep_the_filters(client, workspace, admin):
    _settings_events(workspace, PAGE_SIZE + 1)
    client.force_login(admin.user)
    response = client.get(URL, {"action": actions.SETTINGS_CHANGED})
    older = response.context["page"].older
    assert f'href="?action=settings.changed&amp;before={older}"' in response.content.decode()


def test_a_bad_cursor_shows_the_newest_page_with_a_message(client, workspace, admin):
    events = _settings_events(workspace, 2)
    client.force_login(admin.user)
    response = client.get(URL, {"before": "1 OR 1=1"})
    assert _shown_ids(response) == [events[1].pk, events[0].pk]
    assert str(CURSOR_ERROR) in response.content.decode()


# Showing user-supplied values safely --------------------------------------------------------------


def test_values_are_escaped_and_control_characters_shown(clock, client, workspace, admin):
    forged_line = "Mozilla\r\n2026-11-23 09:00:00 admin@acme.test settings.changed <script>alert(1)</script>"
    audit_record(
        action=actions.SETTINGS_CHANGED,
        request=request_for("/", user=admin.user, agent=forged_line),
        workspace=workspace,
        target_type="workspaces.workspace",
        target_id="7\u202egnp.exe",
        detail={"name": "a\nb"},
    )
    client.force_login(admin.user)
    body = client.get(URL).content.decode()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert 'Mozilla<span class="ctl" title="control character">\\r</span><span class="ctl"' in body
    assert "\r\n2026-11-23" not in body
    assert '7<span class="ctl" title="control character">\\u202e</span>gnp.exe' in body
    assert 'name=a<span class="ctl" title="control character">\\n</span>b' in body
    assert "2026-11-23 09:00:00" in body  # UTC


# CSV --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value, cell):
    assert csv_safe_cell(value) == cell


def test_csv_streams_the_filtered_rows_neutralised_and_is_audited(client, workspace, other_workspace, admin):
    audit_record(
        action=actions.SETTINGS_CHANGED, workspace=workspace, target_type="x", target_id="=HYPERLINK(1)"
    )
    audit_record(action=actions.MEMBER_REMOVED, workspace=workspace, target_type="x", target_id="+2")
    _settings_events(other_workspace, 2)
    client.force_login(admin.user)

    response = client.get(CSV_URL, {"action": actions.SETTINGS_CHANGED})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == CSV_HEADER
    assert [(row[4], row[6]) for row in rows[1:]] == [("settings.changed", "'=HYPERLINK(1)")]
    exported = AuditEvent.objects.get(action=actions.AUDIT_EXPORTED)
    assert (exported.workspace_id, exported.actor_id, exported.detail) == (
        workspace.pk,
        admin.user_id,
        {"action": actions.SETTINGS_CHANGED},
    )


def test_csv_fetches_in_keyset_chunks(client, workspace, admin, monkeypatch):
    monkeypatch.setattr("privacy.audit.selectors.EXPORT_CHUNK", 3)
    real = audit_selectors.audit_events_for_export
    monkeypatch.setattr("privacy.auditlog.views.audit_events_for_export", lambda **kw: real(**kw, chunk=3))
    events = _settings_events(workspace, 7)
    client.force_login(admin.user)
    with CaptureQueriesContext(connection) as queries:
        body = b"".join(client.get(CSV_URL, {"action": actions.SETTINGS_CHANGED}).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert [int(row[1]) for row in rows] == [e.seq for e in reversed(events)]
    selects = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and "privacy_auditevent" in q["sql"]
    ]
    assert len(selects) == 3  # 3 + 3 + 1 rows, no OFFSET
    assert not any("OFFSET" in q["sql"].upper() for q in selects)


@pytest.mark.django_db(transaction=True)
def test_csv_under_asgi_streams_from_an_async_iterator(workspace):
    events = _settings_events(workspace, 3)

    async def collect():
        try:
            return [part async for part in _csv_lines_async(workspace, AuditFilters())]
        finally:
            # The chunks were read on the sync thread's own connection: close it there.
            await sync_to_async(connections.close_all, thread_sensitive=True)()

    parts = asyncio.run(collect())
    rows = list(csv.reader(io.StringIO("".join(parts))))
    assert rows[0] == CSV_HEADER
    assert [int(row[1]) for row in rows[1:]] == [e.seq for e in reversed(events)]


# The account page ----------------------------------------------------------------------------------


def test_account_page_lists_the_newest_account_events_about_me(client, workspace, admin):
    me, someone = admin.user, UserFactory()
    audit_record(action=actions.AUTH_LOGIN_FAILED, request=request_for("/", ip="198.51.100.9"), target=me)
    for _ in range(ACCOUNT_EVENTS_LIMIT):
        audit_record(action=actions.AUTH_LOGIN, request=request_for("/", user=me, agent="Firefox\nEvil"))
    audit_record(action=actions.AUTH_LOGIN, request=request_for("/", user=someone, ip="192.0.2.200"))
    _settings_events(workspace, 1, actor=me)  # workspace events are not account events
    client.force_login(me)

    response = client.get("/account/")

    body = response.content.decode()
    assert "Recent security activity" in body
    assert body.count('<code class="audit-action">auth.login</code>') == ACCOUNT_EVENTS_LIMIT
    assert "192.0.2.200" not in body
    assert "settings.changed" not in body
    assert 'Firefox<span class="ctl" title="control character">\\n</span>Evil' in body
    # The failed attempt on my account is older than the 20 newest: not shown, but it is listed
    # once there is room.
    assert "198.51.100.9" not in body


def test_account_section_costs_one_query(admin, rf, django_assert_num_queries):
    for _ in range(3):
        audit_record(action=actions.AUTH_LOGIN, request=request_for("/", user=admin.user))
    template = Template("{% load privacy_audit %}{% account_audit_section %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"user": admin.user}))
    assert html.count("auth.login") == 3


def test_account_section_is_empty_for_signed_out_visitors(db, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser

    with django_assert_num_queries(0):
        html = Template("{% load privacy_audit %}{% account_audit_section %}").render(
            Context({"user": AnonymousUser()})
        )
    assert "No account activity recorded yet." in html
