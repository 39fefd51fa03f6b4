"""Macros (canned replies): placeholders, who sees which macro, managing them, and sending a
message with one (its status and priority applied through the ticket services, audited)."""

import pytest
from django.core import mail
from django.db import transaction

from privacy.account.erasure import erase_account_data
from privacy.audit.models import AuditEvent
from tests.concurrency import run_threads
from tests.conftest import make_member
from tests.tickets.ticket_helpers import agent_of, new_ticket, url
from tickets.bodies import body_html_of
from tickets.macros import placeholders
from tickets.macros.models import Macro
from tickets.macros.personal_data import export_macros
from tickets.macros.send import MACRO_NOT_ALLOWED
from tickets.macros.services import (
    MACRO_CHANGED_SINCE,
    SHORTCUT_TAKEN_PERSONAL,
    MacroValues,
    macro_create,
    macro_update,
)
from tickets.models import Message, MessageKind, Status, Ticket
from workspaces.models import Role

pytestmark = pytest.mark.django_db


def macros_url(workspace, tail=""):
    return f"/w/{workspace.slug}/macros/{tail}"


def personal(membership, *, shortcut="thanks", body="Hi {{ requester.first_name }}, thanks!", **values):
    return macro_create(
        workspace=membership.workspace,
        owner=membership.user,
        values=MacroValues(name=values.pop("name", "Thanks"), shortcut=shortcut, body=body, **values),
        actor=membership.user,
    )


def shared(admin, *, shortcut="pending", body="We are waiting for you, {{ requester.name }}.", **values):
    return macro_create(
        workspace=admin.workspace,
        owner=None,
        values=MacroValues(name=values.pop("name", "Waiting"), shortcut=shortcut, body=body, **values),
        actor=admin.user,
    )


def form_data(macro=None, **changes):
    data = {
        "name": "Refund",
        "shortcut": "refund",
        "kind": "reply",
        "body": "Hello {{ requester.first_name }}",
        "status": "",
        "priority": "",
        "tags": "",
    }
    if macro is not None:
        data.update(
            name=macro.name,
            shortcut=macro.shortcut,
            kind=macro.kind,
            body=macro.body,
            status=macro.status,
            priority=macro.priority,
            tags=", ".join(macro.tags),
            version=macro.version,
        )
    data.update(changes)
    return data


# Placeholders -----------------------------------------------------------------------------------


def test_placeholders_are_filled_in_for_the_ticket_and_the_agent(workspace, queue):
    requester = make_member(workspace, Role.REQUESTER, display_name="Dana Scully")
    agent = agent_of(workspace, queue, display_name="Fox Mulder")
    ticket = new_ticket(requester, queue, subject="Lights in the sky")
    body = (
        "Hi {{ requester.first_name }} ({{requester.name}}), ticket #{{ ticket.number }} "
        "“{{ ticket.subject }}”. {{ agent.first_name }} / {{ agent.name }} at {{ workspace.name }}"
    )
    assert placeholders.render(body, ticket=ticket, agent=agent.user) == (
        f"Hi Dana (Dana Scully), ticket #{ticket.number} “Lights in the sky”. Fox / Fox Mulder at Acme"
    )


def test_values_stay_text_a_name_cannot_add_a_link_or_a_mention(workspace, queue, agent):
    requester = make_member(
        workspace, Role.REQUESTER, display_name="[click](https://evil.example) @[Ann](user:1)"
    )
    ticket = new_ticket(requester, queue)
    text = placeholders.render("Dear {{ requester.name }}", ticket=ticket, agent=agent.user)
    assert text == r"Dear \[click\](https://evil.example) @\[Ann\](user:1)"
    message = Message(body=text)

    html = body_html_of(message.body)
    assert "<a " not in html and "[click]" in html


def test_a_requester_who_is_gone_is_named_by_the_pseudonym_never_a_crash(workspace, queue, agent, requester):
    ticket = new_ticket(requester, queue)
    Ticket.objects.filter(pk=ticket.pk).update(requester=None, requester_pseudonym="Deleted user 7f3a")
    ticket.refresh_from_db()
    text = placeholders.render(
        "Hi {{ requester.first_name }}, {{ requester.name }}", ticket=ticket, agent=agent.user
    )
    assert text == "Hi Deleted user 7f3a, Deleted user 7f3a"
    Ticket.objects.filter(pk=ticket.pk).update(requester_pseudonym="")
    ticket.refresh_from_db()
    assert placeholders.render("Hi {{ requester.first_name }}", ticket=ticket, agent=agent.user) == (
        "Hi Deleted user"
    )


def test_an_erased_requester_shows_whole_as_the_pseudonym_of_the_tombstone(
    workspace, queue, agent, requester
):
    ticket = new_ticket(requester, queue)
    with transaction.atomic():
        _counts, label = erase_account_data(requester.user)
    ticket.refresh_from_db()
    text = placeholders.render("Hi {{ requester.first_name }}", ticket=ticket, agent=agent.user)
    assert text == f"Hi {label}" and label.startswith("Deleted user")


def test_unknown_placeholders_are_refused_with_the_list_of_valid_ones(workspace, agent, login):
    client = login(agent)
    response = client.post(
        macros_url(workspace, "new/"), form_data(body="Hi {{ requester.firstname }} {{ ticket.secret }}")
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Unknown placeholder: {{ requester.firstname }}, {{ ticket.secret }}." in text
    assert "{{ requester.first_name }}, {{ requester.name }}, {{ ticket.number }}" in text
    assert not Macro.objects.exists()


# Who sees which macro ---------------------------------------------------------------------------


def test_a_personal_macro_is_invisible_to_another_agent(workspace, queue, agent, ticket, login):
    mine = personal(agent, name="My secret greeting")
    colleague = agent_of(workspace, queue)
    client = login(colleague)
    assert "My secret greeting" not in client.get(macros_url(workspace)).content.decode()
    assert "My secret greeting" not in client.get(url(workspace, "", ticket.number)).content.decode()
    assert client.get(macros_url(workspace, f"{mine.pk}/")).status_code == 404
    assert client.get(macros_url(workspace, f"{mine.pk}/delete/")).status_code == 404
    render_url = url(workspace, "", ticket.number, "macros", mine.pk)
    assert client.get(render_url).status_code == 404
    # Its owner gets it, filled in.
    owner = login(agent)
    assert owner.get(render_url).json()["text"].startswith("Hi Person")


def test_another_workspaces_macro_answers_404(workspace, other_workspace, agent, ticket, login):
    outsider = make_member(other_workspace, Role.ADMIN)
    theirs = shared(outsider)
    client = login(agent)
    assert client.get(url(workspace, "", ticket.number, "macros", theirs.pk)).status_code == 404
    admin = make_member(workspace, Role.ADMIN)
    assert login(admin).get(macros_url(workspace, f"{theirs.pk}/")).status_code == 404


def test_requesters_never_see_macros(workspace, requester, ticket, admin, login):
    macro = shared(admin)
    client = login(requester)
    assert client.get(macros_url(workspace)).status_code == 404
    assert client.get(url(workspace, "", ticket.number, "macros", macro.pk)).status_code == 404
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    assert "macro" not in page.lower()


def test_agents_use_shared_macros_but_only_admins_change_them(workspace, agent, admin, login):
    macro = shared(admin, name="Team greeting")
    client = login(agent)
    listing = client.get(macros_url(workspace)).content.decode()
    assert "Team greeting" in listing and f"/macros/{macro.pk}/" not in listing
    assert (
        client.post(macros_url(workspace, f"{macro.pk}/"), form_data(macro, name="Mine now")).status_code
        == 404
    )
    # An agent asking for a shared macro gets a personal one: the choice is not theirs.
    client.post(macros_url(workspace, "new/"), {**form_data(), "scope": "shared"})
    assert Macro.objects.get(shortcut="refund").owner_id == agent.user_id


# Managing macros ------------------------------------------------------------------------------


def test_shared_macros_are_audited_personal_ones_are_not(workspace, admin, agent, login):
    client = login(admin)
    response = client.post(
        macros_url(workspace, "new/"), {**form_data(body="Secret words {{ agent.name }}"), "scope": "shared"}
    )
    assert response.status_code == 302
    macro = Macro.objects.get(shortcut="refund")
    assert macro.is_shared
    client.post(macros_url(workspace, f"{macro.pk}/"), form_data(macro, body="Other words", priority="high"))
    client.post(macros_url(workspace, f"{macro.pk}/delete/"))
    assert not Macro.objects.exists()
    events = list(AuditEvent.objects.filter(action__startswith="macro.").order_by("seq"))
    assert [e.action for e in events] == ["macro.created", "macro.changed", "macro.deleted"]
    assert events[1].detail == {"macro_id": macro.pk, "fields": ["body", "priority"]}
    assert all("words" not in str(e.detail) for e in events)
    login(agent).post(macros_url(workspace, "new/"), form_data(shortcut="mine"))
    assert Macro.objects.get(shortcut="mine").owner_id == agent.user_id
    assert AuditEvent.objects.filter(action__startswith="macro.").count() == 3


def test_a_shortcut_is_unique_per_scope(workspace, agent, admin, login):
    personal(agent, shortcut="hello")
    shared(admin, shortcut="hello")  # a shared one may share it: the personal one wins for its owner
    response = login(agent).post(macros_url(workspace, "new/"), form_data(shortcut="hello"))
    assert response.status_code == 400
    assert str(SHORTCUT_TAKEN_PERSONAL % {"shortcut": "hello"}) in response.content.decode()
    personal(agent_of(workspace), shortcut="hello")  # another agent's own


def test_a_stale_edit_is_refused_and_the_text_kept(workspace, admin, login):
    macro = shared(admin, body="Original")
    ann = login(admin)
    stale = form_data(macro, body="Ann's version")
    other_admin = make_member(workspace, Role.ADMIN, display_name="Bo Admin")
    macro_update(
        macro=macro,
        values=MacroValues(name=macro.name, shortcut=macro.shortcut, body="Bo's version"),
        seen_version=macro.version,
        actor=other_admin.user,
    )
    response = ann.post(macros_url(workspace, f"{macro.pk}/"), stale)
    assert response.status_code == 409
    text = response.content.decode()
    assert str(MACRO_CHANGED_SINCE % {"name": "Bo Admin"}).replace("'", "&#x27;") in text
    assert "Ann&#x27;s version" in text and "Bo&#x27;s version" in text
    assert Macro.objects.get(pk=macro.pk).body == "Bo's version"
    # The form now carries the newer version: saving again on purpose works.
    again = ann.post(
        macros_url(workspace, f"{macro.pk}/"), form_data(Macro.objects.get(pk=macro.pk), body="Ann's")
    )
    assert again.status_code == 302 and Macro.objects.get(pk=macro.pk).body == "Ann's"


@pytest.mark.django_db(transaction=True)
def test_two_admins_saving_the_same_version_at_once_one_wins_the_other_is_told(workspace):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("Row locks between two connections need PostgreSQL (SQLite locks the whole table).")
    admin_a = make_member(workspace, Role.ADMIN)
    admin_b = make_member(workspace, Role.ADMIN)
    macro = shared(admin_a, body="Original")
    outcomes = []

    def save(index):
        actor = (admin_a, admin_b)[index].user
        try:
            macro_update(
                macro=macro,
                values=MacroValues(name=macro.name, shortcut=macro.shortcut, body=f"Version {index}"),
                seen_version=1,
                actor=actor,
            )
            outcomes.append("saved")
        except Exception as error:  # noqa: BLE001 - the refusal is what is counted
            outcomes.append(getattr(error, "code", repr(error)))

    run_threads(2, save)
    assert sorted(outcomes) == ["changed_since", "saved"]
    saved = Macro.objects.get(pk=macro.pk)
    assert saved.version == 2 and saved.body in ("Version 0", "Version 1")


# Sending with a macro ---------------------------------------------------------------------------


def reply_post(macro, body, kind="reply"):
    return {"body": body, "kind": kind, "macro": macro.pk if macro else ""}


def test_sending_with_a_macro_sets_its_status_and_priority_audited(
    workspace, queue, agent, requester, login, django_capture_on_commit_callbacks
):
    ticket = new_ticket(requester, queue)
    macro = personal(agent, status=Status.PENDING, priority="high")
    client = login(agent)
    text = client.get(url(workspace, "", ticket.number, "macros", macro.pk)).json()["text"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(workspace, "", ticket.number), reply_post(macro, text), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your reply was posted and the ticket is now Pending." in page
    assert "Macro “Thanks” applied: status Pending; priority High." in page
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Status.PENDING, "high")
    assert ticket.messages.filter(kind=MessageKind.REPLY).last().body == text
    applied = AuditEvent.objects.get(action="macro.applied")
    assert applied.detail == {
        "number": ticket.number,
        "macro_id": macro.pk,
        "shared": False,
        "changed": {"status": ["new", "pending"], "priority": ["normal", "high"]},
    }
    assert "thanks" not in str(applied.detail).lower()
    assert AuditEvent.objects.filter(action="ticket.status_changed").exists()
    assert AuditEvent.objects.filter(action="ticket.priority_changed").exists()
    # One email to the requester, stating the new status (not a second one for the status).
    assert [m.to for m in mail.outbox] == [[requester.user.email]]


def test_the_button_status_wins_over_the_macros(workspace, queue, agent, requester, login):
    ticket = new_ticket(requester, queue)
    macro = personal(agent, status=Status.PENDING)
    login(agent).post(url(workspace, "", ticket.number), reply_post(macro, "Done.", kind="reply+solved"))
    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_a_macro_that_went_away_refuses_the_send_and_keeps_the_text(
    workspace, queue, agent, requester, login
):
    ticket = new_ticket(requester, queue)
    macro = personal(agent, status=Status.SOLVED)
    client = login(agent)
    Macro.objects.filter(pk=macro.pk).delete()
    response = client.post(url(workspace, "", ticket.number), reply_post(macro, "My typed words"))
    assert response.status_code == 400
    page = response.content.decode()
    assert str(MACRO_NOT_ALLOWED).replace("'", "&#x27;") in page
    assert "My typed words" in page
    assert 'name="macro" id="id_macro" value=""' in page
    assert not Message.objects.filter(body="My typed words").exists()


def test_someone_elses_personal_macro_is_refused_on_send(workspace, queue, agent, requester, login):
    ticket = new_ticket(requester, queue)
    theirs = personal(agent_of(workspace, queue), status=Status.SOLVED)
    response = login(agent).post(url(workspace, "", ticket.number), reply_post(theirs, "Words"))
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW and not Message.objects.filter(body="Words").exists()


def test_a_note_macro_is_never_sent_as_a_public_reply(workspace, queue, agent, requester, login):
    ticket = new_ticket(requester, queue)
    macro = personal(agent, kind=MessageKind.NOTE, body="Internal: customer is difficult")
    client = login(agent)
    response = client.post(
        url(workspace, "", ticket.number), reply_post(macro, "Internal: customer is difficult")
    )
    assert response.status_code == 400
    assert "is for internal notes" in response.content.decode()
    assert not Message.objects.filter(body__startswith="Internal").exists()
    client.post(url(workspace, "", ticket.number), reply_post(macro, "Internal: noted", kind="note"))
    assert Message.objects.get(body="Internal: noted").kind == MessageKind.NOTE


def test_inserting_without_javascript_keeps_the_typed_text(workspace, queue, agent, login):
    requester = make_member(workspace, Role.REQUESTER, display_name="Dana Scully")
    ticket = new_ticket(requester, queue)
    macro = personal(agent, status=Status.PENDING)
    client = login(agent)
    page = client.get(url(workspace, "", ticket.number)).content.decode()
    assert f'<option value="{macro.pk}"' in page
    response = client.post(
        url(workspace, "", ticket.number, "macros", "insert"),
        {"body": "I looked into it.", "macro_pick": macro.pk},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "I looked into it.\n\nHi Dana, thanks!</textarea>" in page
    assert f'name="macro" id="id_macro" value="{macro.pk}"' in page
    assert "Macro “Thanks” inserted. When sent, sets status Pending." in page


# Personal data ----------------------------------------------------------------------------------


def test_personal_macros_are_exported_and_erased_shared_ones_kept(workspace, queue, agent, admin):
    mine = personal(agent, body="My words")
    team = macro_create(
        workspace=workspace,
        owner=None,
        values=MacroValues(name="Team", shortcut="team", body="Ask agent " + agent.user.display_name),
        actor=agent.user,
    )

    class Ctx:
        user = agent.user
        workspace_id = None

    exported = {row["shortcut"]: row for row in export_macros(Ctx)}
    assert exported["thanks"]["body"] == "My words" and exported["thanks"]["yours"]
    assert exported["team"]["shared"] and exported["team"]["written_by_you"]
    with transaction.atomic():
        counts, label = erase_account_data(agent.user)
    assert not Macro.objects.filter(pk=mine.pk).exists()
    kept = Macro.objects.get(pk=team.pk)
    assert kept.created_by_id == agent.user_id and kept.body == f"Ask agent {label}"
    assert counts["personal_macros_deleted"] == 1


# Tags (built elsewhere): stored by name, handed to the one hook ------------------------------------


def test_tag_names_are_cleaned_and_limited(workspace, agent, login):
    client = login(agent)
    client.post(macros_url(workspace, "new/"), form_data(tags="billing,  Refund , BILLING,,vip"))
    assert Macro.objects.get(shortcut="refund").tags == ["billing", "Refund", "vip"]
    many = ", ".join(f"t{i}" for i in range(11))
    response = client.post(macros_url(workspace, "new/"), form_data(shortcut="many", tags=many))
    assert response.status_code == 400 and "A macro can add at most 10 tags." in response.content.decode()


def test_a_macros_tags_are_put_on_the_ticket_when_sent(workspace, queue, agent, requester, login):
    from tickets.models import TicketTag

    ticket = new_ticket(requester, queue)
    macro = personal(agent, tags=("billing", "vip"))
    login(agent).post(url(workspace, "", ticket.number), reply_post(macro, "Tagged."))
    tags = set(TicketTag.objects.filter(ticket=ticket).values_list("tag__name", flat=True))
    assert tags == {"billing", "vip"}
    assert AuditEvent.objects.get(action="ticket.tags_changed").detail["added"] == ["billing", "vip"]
    assert AuditEvent.objects.get(action="macro.applied").detail["changed"] == {"tags": ["billing", "vip"]}


def test_the_picker_lists_personal_macros_before_shared_ones(workspace, queue, agent, admin, ticket, login):
    shared(admin, shortcut="hello", name="A shared hello")
    personal(agent, shortcut="hello", name="Z my hello")
    page = login(agent).get(url(workspace, "", ticket.number)).content.decode()
    assert page.index("Z my hello") < page.index("A shared hello")


# Query counts -------------------------------------------------------------------------------------


def test_the_macros_page_and_the_render_endpoint_cost_the_same_whatever_the_number_of_macros(
    workspace, queue, agent, admin, ticket, login, django_assert_max_num_queries
):
    client = login(agent)
    first = personal(agent, shortcut="first")
    client.get(macros_url(workspace))  # warm up (session, audit chain head)
    with django_assert_max_num_queries(5) as few:
        assert client.get(macros_url(workspace)).status_code == 200
    render_url = url(workspace, "", ticket.number, "macros", first.pk)
    with django_assert_max_num_queries(5) as render_few:
        assert client.get(render_url).status_code == 200
    for index in range(15):
        personal(agent, shortcut=f"mine-{index}")
        shared(admin, shortcut=f"team-{index}")
    with django_assert_max_num_queries(len(few)):
        assert client.get(macros_url(workspace)).status_code == 200
    with django_assert_max_num_queries(len(render_few)):
        assert client.get(render_url).status_code == 200
