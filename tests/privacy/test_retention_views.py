"""The retention settings page and the legal-hold pages (admins only; the matrix covers the 404s)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy.audit.models import AuditEvent
from privacy.retention import views as retention_views
from privacy.retention.forms import DAYS_RANGE, DAYS_REQUIRED
from privacy.retention.holds import PERSON_NOT_FOUND, TICKET_NOT_FOUND
from privacy.retention.models import HoldScope, LegalHold, RetentionPolicy
from privacy.retention.policies import POLICY_CHANGED_SINCE, POLICY_WORDS, policy_for, policy_version
from privacy.retention.views import CONFIRM_NEEDED, HOLD_PLACED, HOLD_RELEASED, SAVED
from tests.factories import TicketFactory
from tests.privacy.matrix import _retention_post
from tests.privacy.retention_support import NOW, closed_ticket, requester_in
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, admin):
    client.force_login(admin.user)
    return client


def url(workspace, name="retention_settings", **kwargs):
    return reverse(name, kwargs={"slug": workspace.slug, **kwargs})


def test_page_shows_the_policy_words_defaults_and_what_is_due(
    signed_in, workspace, queue, django_assert_max_num_queries
):
    person = requester_in(workspace)
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=person.user, status=Status.CLOSED)
    ticket.closed_at = ticket.created_at.replace(year=ticket.created_at.year - 3)
    ticket.save()
    with django_assert_max_num_queries(30):
        response = signed_in.get(url(workspace))
    assert response.status_code == 200
    page = response.content.decode()
    assert str(POLICY_WORDS) in page
    assert 'value="730"' in page and 'value="1095"' in page and 'value="2555"' in page
    rows = {row["kind"]: row for row in response.context["rows"]}
    assert rows["tickets"]["due"] == 1 and rows["notes"]["days"] is None
    assert not RetentionPolicy.objects.exists()  # GET changes nothing


def test_counts_in_the_thousands_are_written_with_separators(signed_in, workspace, monkeypatch):
    # A large workspace's counts run to six figures: "249,626" is read at a glance, "249626" is not.
    real_preview = retention_views.preview_workspace

    def large(workspace, **kwargs):
        counts = real_preview(workspace, **kwargs)
        counts["tickets"] = {"due": 249_626, "spared": 1_204}
        return counts

    monkeypatch.setattr(retention_views, "preview_workspace", large)
    page = signed_in.get(url(workspace)).content.decode()
    assert ">249,626</span>" in page and ">1,204</a>" in page
    assert "249626" not in page


def test_lengthening_saves_at_once_and_audits_old_and_new(signed_in, workspace):
    response = signed_in.post(url(workspace), _retention_post(tickets_days=1000), follow=True)
    assert str(SAVED) in [str(m) for m in response.context["messages"]]
    assert policy_for(workspace).tickets_days == 1000
    event = AuditEvent.objects.get(action="settings.changed", workspace=workspace)
    assert event.detail == {
        "setting": "retention",
        "old": {"tickets_days": 730},
        "new": {"tickets_days": 1000},
    }


def test_shortening_shows_what_expires_and_needs_confirmation(signed_in, workspace, queue):
    person = requester_in(workspace)
    for days in (100, 200, 300):
        closed_ticket(workspace, queue, requester=person.user, closed_days=days, files=False)
    closed_ticket(workspace, queue, requester=person.user, closed_days=10, files=False)
    # closed_ticket dates are relative to the retention tests' frozen NOW (2031): shift them to today.
    shift = NOW - timezone.now()
    for ticket in Ticket.objects.all():
        Ticket.objects.filter(pk=ticket.pk).update(closed_at=ticket.closed_at - shift)
    data = _retention_post(tickets_days=50)
    response = signed_in.post(url(workspace), data)
    assert response.status_code == 200
    assert str(CONFIRM_NEEDED) in [str(m) for m in response.context["messages"]]
    change = response.context["changes"][0]
    assert (change["label"], change["old"], change["new"], change["due_now"], change["due_after"]) == (
        "Closed tickets", "730 days", "50 days", 0, 3,
    )  # fmt: skip
    assert 'name="confirm" value="1"' in response.content.decode()
    assert policy_for(workspace).tickets_days == 730  # not saved yet
    response = signed_in.post(url(workspace), {**data, "confirm": "1"})
    assert response.status_code == 302
    assert policy_for(workspace).tickets_days == 50


def test_forever_to_a_number_counts_as_shortening(signed_in, workspace):
    response = signed_in.post(url(workspace), _retention_post(notes_days=90))
    assert response.status_code == 200 and response.context["changes"][0]["new"] == "90 days"


def test_bad_input_gets_a_message_and_keeps_what_was_typed(signed_in, workspace):
    data = _retention_post(tickets_days=400)
    del data["notes_forever"]
    data["audit_events_days"] = "0"
    response = signed_in.post(url(workspace), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["notes_days"] == [DAYS_REQUIRED]
    assert form.errors["audit_events_days"] == [DAYS_RANGE]
    assert 'value="400"' in response.content.decode()
    assert not RetentionPolicy.objects.exists()


def test_place_list_and_release_holds(signed_in, workspace, queue, admin, django_assert_max_num_queries):
    person = requester_in(workspace, email="held.person@example.test")
    ticket = closed_ticket(workspace, queue, requester=person.user, closed_days=5)
    response = signed_in.post(
        url(workspace, "legal_hold_new"), {"scope": "person", "email": "nobody@example.test", "reason": "x"}
    )
    assert response.status_code == 400 and response.context["form"].errors["email"] == [PERSON_NOT_FOUND]
    response = signed_in.post(
        url(workspace, "legal_hold_new"), {"scope": "ticket", "ticket_number": 999, "reason": "x"}
    )
    assert response.context["form"].errors["ticket_number"] == [TICKET_NOT_FOUND]
    response = signed_in.post(
        url(workspace, "legal_hold_new"),
        {"scope": "person", "email": "Held.Person@example.test", "reason": "Court order 12/31"},
        follow=True,
    )
    hold = LegalHold.objects.get()
    assert (hold.scope, hold.user_id, hold.placed_by_id) == (HoldScope.PERSON, person.user_id, admin.user_id)
    assert str(HOLD_PLACED) in [str(m) for m in response.context["messages"]]
    assert response.context["total"] == 1 and response.context["tickets"][0].pk == ticket.pk
    for n in range(3):
        LegalHold.objects.create(
            workspace=workspace, scope=HoldScope.TICKET, ticket=ticket, reason=f"r{n}", placed_by=admin.user
        )
    with django_assert_max_num_queries(12):
        page = signed_in.get(url(workspace, "legal_holds"))
    assert page.status_code == 200 and "Court order 12/31" in page.content.decode()
    assert len(page.context["active"]) == 4
    with django_assert_max_num_queries(14):
        assert signed_in.get(url(workspace, "legal_hold_detail", hold_id=hold.pk)).status_code == 200
    response = signed_in.post(url(workspace, "legal_hold_release", hold_id=hold.pk), follow=True)
    assert str(HOLD_RELEASED) in [str(m) for m in response.context["messages"]]
    hold.refresh_from_db()
    assert hold.released_by_id == admin.user_id
    assert AuditEvent.objects.filter(action="legal_hold.released").count() == 1
    assert len(signed_in.get(url(workspace, "legal_holds")).context["ended"]) == 1


def test_holds_of_another_workspace_answer_404(signed_in, workspace, other_workspace, admin):
    foreign = LegalHold.objects.create(workspace=other_workspace, scope=HoldScope.WORKSPACE, reason="theirs")
    assert signed_in.get(url(workspace, "legal_hold_detail", hold_id=foreign.pk)).status_code == 404
    assert signed_in.post(url(workspace, "legal_hold_release", hold_id=foreign.pk)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.released_at is None


def test_a_save_against_settings_changed_since_is_refused_and_keeps_the_choices(signed_in, workspace, admin):
    """Issue 17: two admins have the page open; the first lengthens tickets, the second (on the
    old page) lengthens notes: refused, nothing of the first admin's change is undone."""
    seen = signed_in.get(url(workspace)).context["form"]["seen"].value()
    signed_in.post(url(workspace), {**_retention_post(tickets_days=1000), "seen": seen})
    assert policy_for(workspace).tickets_days == 1000

    stale = {**_retention_post(tickets_days=730, audit_days=3000), "seen": seen}
    response = signed_in.post(url(workspace), stale)

    assert response.status_code == 409
    page = response.content.decode().replace("&#x27;", "'")
    assert str(POLICY_CHANGED_SINCE) in page
    assert 'value="3000"' in page  # the person's choice, kept
    policy = policy_for(workspace)
    assert (policy.tickets_days, policy.audit_days) == (1000, RetentionPolicy().audit_days)
    # Kept simple: the version covers the whole form, not each field. Saving the re-shown form
    # (it carries the current settings' version) is therefore checked like any save: what it
    # would shorten (the other admin's 1000 days, back to 730) needs a confirmation first.
    again = response.context["form"]
    assert again["seen"].value() == policy_version(policy)
    confirm = signed_in.post(url(workspace), {**stale, "seen": again["seen"].value()})
    assert str(CONFIRM_NEEDED) in [str(m) for m in confirm.context["messages"]]
    assert policy_for(workspace).tickets_days == 1000
    # Choosing again from the settings as they are now applies the person's change alone.
    current = {**_retention_post(tickets_days=1000, audit_days=3000), "seen": again["seen"].value()}
    assert signed_in.post(url(workspace), current).status_code == 302
    assert (policy_for(workspace).tickets_days, policy_for(workspace).audit_days) == (1000, 3000)
