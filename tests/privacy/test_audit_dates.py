"""Audit-log dates out of range, malformed or reversed: a clear form error, never a 500, and a
CSV download that always ends."""

import asyncio
import csv
import io

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from privacy.audit import actions
from privacy.audit.log import audit_record
from privacy.audit.models import AuditEvent
from privacy.audit.selectors import AuditFilters, with_actor_names
from privacy.auditlog.forms import DATE_ORDER_ERROR, DATE_RANGE_ERROR
from privacy.auditlog.views import CSV_FILTER_ERROR, CSV_HEADER, CSV_INCOMPLETE, _csv_lines, _csv_lines_async

pytestmark = pytest.mark.django_db

URL = "/w/acme/admin/audit/"
CSV_URL = "/w/acme/admin/audit.csv"
INVALID_DATE = "Enter a valid date."

BAD_FILTERS = [
    ({"date_to": "9999-12-31"}, "date_to", DATE_RANGE_ERROR),
    ({"date_from": "9999-12-31"}, "date_from", DATE_RANGE_ERROR),
    ({"date_from": "0001-01-01"}, "date_from", DATE_RANGE_ERROR),
    ({"date_to": "0001-01-01"}, "date_to", DATE_RANGE_ERROR),
    ({"date_from": "1999-12-31"}, "date_from", DATE_RANGE_ERROR),
    ({"date_to": "2100-01-01"}, "date_to", DATE_RANGE_ERROR),
    ({"date_to": "garbage"}, "date_to", INVALID_DATE),
    ({"date_from": "2024-13-45"}, "date_from", INVALID_DATE),
    ({"date_from": "10000-01-01"}, "date_from", INVALID_DATE),
    ({"date_from": "2025-03-02", "date_to": "2025-03-01"}, "date_to", DATE_ORDER_ERROR),
]


@pytest.fixture
def signed_in(client, admin):
    audit_record(action=actions.SETTINGS_CHANGED, workspace=admin.workspace)
    client.force_login(admin.user)
    return client


@pytest.mark.parametrize(("query", "field", "message"), BAD_FILTERS)
def test_the_page_names_the_bad_date_and_shows_no_events(signed_in, query, field, message):
    response = signed_in.get(URL, query)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert response.context["page"] is None
    assert str(message) in response.content.decode()


@pytest.mark.parametrize(("query", "field", "message"), BAD_FILTERS)
def test_the_csv_refuses_the_bad_date_at_once(signed_in, query, field, message):
    response = signed_in.get(CSV_URL, query)

    assert response.status_code == 400
    assert not response.streaming
    assert response.content.decode() == CSV_FILTER_ERROR
    assert not AuditEvent.objects.filter(action=actions.AUDIT_EXPORTED).exists()


def test_the_edges_of_the_range_are_accepted(signed_in):
    query = {"date_from": "2000-01-01", "date_to": "2099-12-31"}

    page = signed_in.get(URL, query)
    download = signed_in.get(CSV_URL, query)

    assert page.context["form"].errors == {}
    assert [e.action for e in page.context["page"].events] == [actions.SETTINGS_CHANGED]
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == CSV_HEADER and [row[4] for row in rows[1:]] == [actions.SETTINGS_CHANGED]


def test_the_date_inputs_tell_the_browser_the_range(signed_in):
    body = signed_in.get(URL).content.decode()

    assert body.count('min="2000-01-01"') == 2 and body.count('max="2099-12-31"') == 2


@pytest.mark.django_db(transaction=True)
def test_under_asgi_a_bad_date_is_a_400_not_a_stream(admin):
    async def fetch():
        client = AsyncClient()
        await client.aforce_login(admin.user)
        try:
            return await client.get(CSV_URL, {"date_to": "9999-12-31"})
        finally:
            await sync_to_async(connections.close_all, thread_sensitive=True)()

    response = asyncio.run(asyncio.wait_for(fetch(), timeout=30))

    assert response.status_code == 400
    assert response.content.decode() == CSV_FILTER_ERROR


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_fails_midway_ends_with_a_last_line_saying_so(workspace):
    audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)

    def chunks():
        yield with_actor_names(list(AuditEvent.objects.filter(workspace_id=workspace.pk)))
        raise OverflowError("date value out of range")

    async def collect():
        try:
            return [part async for part in _csv_lines_async(workspace, AuditFilters(), chunks())]
        finally:
            await sync_to_async(connections.close_all, thread_sensitive=True)()

    parts = asyncio.run(asyncio.wait_for(collect(), timeout=30))

    rows = list(csv.reader(io.StringIO("".join(parts))))
    assert rows[0] == CSV_HEADER
    assert rows[1][4] == actions.SETTINGS_CHANGED
    assert rows[-1] == [CSV_INCOMPLETE]


def test_a_synchronous_stream_that_fails_midway_ends_the_same_way(workspace):
    audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace)

    def chunks():
        yield with_actor_names(list(AuditEvent.objects.filter(workspace_id=workspace.pk)))
        raise OverflowError("date value out of range")

    rows = list(csv.reader(io.StringIO("".join(_csv_lines(chunks())))))

    assert rows[0] == CSV_HEADER and rows[1][4] == actions.SETTINGS_CHANGED
    assert rows[-1] == [CSV_INCOMPLETE]
