"""Service levels as people see them: the admin page, the list's Due column and sort, the ticket
page's facts; requesters see none of it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from privacy.audit.models import AuditEvent
from tests.tickets import sla_support
from tests.tickets.sla_support import policy_for
from tests.tickets.ticket_helpers import new_ticket
from tickets import services, sla_forms
from tickets.models import SlaPolicy, Status

clock = sla_support.clock


def admin_url(workspace):
    return reverse("admin_sla", kwargs={"slug": workspace.slug})


def list_url(workspace):
    return reverse("ticket_list", kwargs={"slug": workspace.slug})


def ticket_url(ticket):
    return reverse("ticket_detail", kwargs={"slug": ticket.workspace.slug, "number": ticket.number})


def numbers(response):
    return [t.number for t in response.context["tickets"]]


def form_data(**changes):
    data = {"is_active": "on", "time_zone": "Europe/Berlin", "holidays": "2026-12-25\n2026-12-26"}
    for day in ("mon", "tue", "wed", "thu", "fri"):
        data.update({f"{day}_open": "09:00", f"{day}_close": "17:00"})
    data.update({"normal_first_response": "1h", "normal_resolution": "2h 30m", "urgent_first_response": "15"})
    data.update(changes)
    return data


# The admin page -------------------------------------------------------------------------------------


def test_an_admin_sets_targets_hours_and_holidays(workspace, admin, login):
    client = login(admin)
    page = client.get(admin_url(workspace))
    assert page.status_code == 200
    assert 'aria-current="page">Service levels<' in page.content.decode()
    response = client.post(admin_url(workspace), form_data(), follow=True)
    assert "Service levels saved" in response.content.decode()
    policy = SlaPolicy.objects.get(workspace=workspace)
    assert (policy.normal_first_response, policy.normal_resolution, policy.urgent_first_response) == (
        60,
        150,
        15,
    )
    assert policy.low_first_response is None
    assert policy.weekly_hours[0] == [540, 1020] and policy.weekly_hours[5] is None
    assert policy.holidays == ["2026-12-25", "2026-12-26"]
    assert policy.time_zone == "Europe/Berlin"
    event = AuditEvent.objects.get(action="sla.policy_changed")
    assert event.actor_id == admin.user.pk and "normal_first_response" in event.detail["fields"]
    # The saved values come back in the form as typed.
    again = client.get(admin_url(workspace)).content.decode()
    assert 'value="2h 30m"' in again and 'value="09:00"' in again


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"normal_first_response": "soon"}, sla_forms.BAD_DURATION),
        ({"normal_first_response": "0"}, sla_forms.DURATION_RANGE),
        ({"mon_close": "08:00"}, sla_forms.CLOSE_AFTER_OPEN),
        ({"tue_close": ""}, sla_forms.BOTH_TIMES),
        ({"holidays": "2026-12-25\nChristmas"}, "Line 2: “Christmas” is not a date"),
        ({"time_zone": "Mars/Olympus"}, sla_forms.UNKNOWN_ZONE),
        (
            {f"{d}_{e}": "" for d in ("mon", "tue", "wed", "thu", "fri") for e in ("open", "close")},
            sla_forms.NO_OPEN_DAY,
        ),
        (
            {"normal_first_response": "", "normal_resolution": "", "urgent_first_response": ""},
            sla_forms.NO_TARGET,
        ),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(workspace, admin, login, changes, message):
    response = login(admin).post(admin_url(workspace), form_data(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert str(message).split("%")[0].replace("“", "&ldquo;") in html or str(message).split("%")[0] in html
    assert "There is a problem" in html or "problems" in html
    assert not SlaPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action="sla.policy_changed").exists()


def test_saving_closes_at_midnight_as_the_end_of_the_day(workspace, admin, login):
    login(admin).post(admin_url(workspace), form_data(sat_open="20:00", sat_close="00:00"))
    assert SlaPolicy.objects.get().weekly_hours[5] == [1200, 1440]


@pytest.mark.parametrize("role", ["agent", "requester"])
def test_only_admins_reach_the_page(workspace, agent, requester, login, role):
    member = {"agent": agent, "requester": requester}[role]
    client = login(member)
    assert client.get(admin_url(workspace)).status_code == 404
    assert client.post(admin_url(workspace), form_data()).status_code == 404
    assert not SlaPolicy.objects.exists()


# The list -------------------------------------------------------------------------------------------


def test_staff_see_due_times_and_text_markers_requesters_see_none(
    workspace, queue, agent, requester, login, clock
):
    policy_for(workspace)
    old = new_ticket(requester, queue, subject="Old one", created_at=clock.now - timedelta(hours=3))
    soon = new_ticket(requester, queue, subject="Almost", created_at=clock.now - timedelta(minutes=50))
    calm = new_ticket(requester, queue, subject="Calm")
    waiting = new_ticket(requester, queue, subject="Waiting")
    services.ticket_set_status(ticket=waiting, status=Status.PENDING, actor=agent.user)
    html = login(agent).get(list_url(workspace), {"view": "all"}).content.decode()
    assert '<th scope="col">Due</th>' in html

    def cell(ticket):
        row = re.search(rf'id="ticket-row-{ticket.number}".*?</tr>', html, flags=re.S).group(0)
        return re.search(r'<td class="sla-due".*?</td>', row, flags=re.S).group(0)

    assert "Breached" in cell(old) and 'data-sla-state="breached"' in cell(old)
    assert "Breaching soon" in cell(soon)
    assert "Breach" not in cell(calm) and "<time" in cell(calm)
    assert "Paused" in cell(waiting) and "<time" not in cell(waiting)
    mine = login(requester).get(list_url(workspace)).content.decode()
    assert "sla-due" not in mine and ">Due<" not in mine and "Breached" not in mine


def test_sort_by_due_puts_the_most_urgent_first_and_leaves_out_nothing_due(
    workspace, queue, agent, requester, login, clock
):
    policy_for(workspace)
    later = new_ticket(requester, queue, subject="later")
    overdue = new_ticket(requester, queue, subject="overdue", created_at=clock.now - timedelta(hours=5))
    urgent = new_ticket(requester, queue, subject="urgent", priority="urgent")
    unsla = new_ticket(requester, queue, subject="low", priority="low")  # no target for low
    response = login(agent).get(list_url(workspace), {"view": "all", "sort": "due"})
    assert numbers(response) == [overdue.number, urgent.number, later.number]
    assert unsla.number not in numbers(response)
    assert "only tickets with a service-level target running are listed" in response.content.decode()
    ascending = login(agent).get(list_url(workspace), {"view": "all", "sort": "due", "dir": "asc"})
    assert numbers(ascending) == [later.number, urgent.number, overdue.number]


def test_sort_by_due_pages_with_cursors(workspace, queue, agent, requester, login, clock, monkeypatch):
    from tickets import views

    policy_for(workspace)
    made = [
        new_ticket(requester, queue, subject=f"T{i}", created_at=clock.now - timedelta(minutes=i))
        for i in range(5)
    ]
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = login(agent)
    seen, params = [], {"view": "all", "sort": "due"}
    for _ in range(3):
        response = client.get(list_url(workspace), params)
        seen += numbers(response)
        older = response.context["older_url"]
        if not older:
            break
        params = dict(p.split("=") for p in older.lstrip("?").split("&"))
    assert seen == [t.number for t in reversed(made)]


def test_requesters_cannot_sort_by_due(workspace, queue, requester, login):
    policy_for(workspace)
    new_ticket(requester, queue)
    response = login(requester).get(list_url(workspace), {"sort": "due"})
    assert response.status_code == 200
    assert "sla-due" not in response.content.decode()


def test_the_due_column_costs_no_query_per_row(
    workspace, queue, agent, requester, login, django_assert_max_num_queries
):
    policy_for(workspace)
    client = login(agent)
    for _ in range(5):
        new_ticket(requester, queue)
    client.get(list_url(workspace), {"view": "all", "sort": "due"})
    with django_assert_max_num_queries(30) as five:
        assert len(client.get(list_url(workspace), {"view": "all", "sort": "due"}).context["tickets"]) == 5
    for _ in range(20):
        new_ticket(requester, queue)
    with django_assert_max_num_queries(len(five)) as twenty_five:
        assert len(client.get(list_url(workspace), {"view": "all", "sort": "due"}).context["tickets"]) == 25
    assert len(twenty_five) == len(five)


# The ticket page ------------------------------------------------------------------------------------


def test_the_ticket_page_shows_staff_each_target_and_its_state(
    workspace, queue, agent, requester, login, clock
):
    policy_for(workspace)
    ticket = new_ticket(requester, queue, created_at=clock.now - timedelta(hours=2))
    html = login(agent).get(ticket_url(ticket)).content.decode()
    facts = re.search(r'<dl class="facts">.*?</dl>', html, flags=re.S).group(0)
    assert "<dt>First response</dt>" in facts and "<dt>Resolution</dt>" in facts
    assert "Breached" in facts and "On track" in facts
    own = login(requester).get(ticket_url(ticket)).content.decode()
    assert "First response" not in own and "sla-marker" not in own
