"""Erasing a batch of accounts (the retention sweep's inactive requesters) is set-based: the
number of queries of ``erase_accounts_data`` does not grow with the number of people, and the
mentions pass, which finds candidate rows through the trigram index on PostgreSQL, still finds
and scrubs every mention."""

from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.account.anonymizers import _indexed_candidates, mentions_scrub_many
from privacy.account.erasure import _contexts, erase_accounts_data
from privacy.audit.log import audit_record
from privacy.audit.models import AuditEvent
from privacy.personal_data import registry
from privacy.personal_data.pseudonyms import mention_pattern, pseudonym_for
from tests.factories import MembershipFactory, MessageFactory, TicketFactory, UserFactory
from tests.privacy.retention_support import attach, requester_in
from tickets.anonymize import REDACTED_MESSAGE
from tickets.models import Attachment, Message, Status, Ticket
from workspaces.models import Membership, Role, User
from workspaces.services import member_remove_many

pytestmark = pytest.mark.django_db


def _session(user):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store.create()


def _people(workspace, queue, agent, count, tag):
    """``count`` requesters, each with a ticket, a reply, an agent's reply naming them, a file
    they uploaded, a session, an audit event and a membership of a second workspace."""
    users = []
    for n in range(count):
        user = requester_in(
            workspace, last_login_days=1100, display_name=f"Person {tag}{n}", email=f"p{tag}{n}@example.test"
        ).user
        ticket = TicketFactory(workspace=workspace, queue=queue, requester=user, status=Status.OPEN)
        MessageFactory(ticket=ticket, author=user, body=f"From {user.display_name}")
        MessageFactory(ticket=ticket, author=agent, body=f"Hello {user.display_name}, see {user.email}")
        attach(ticket, uploader=user)
        _session(user)
        audit_record(action="auth.login", actor=user)
        users.append(user)
    return users


def _erase_counting(users):
    with CaptureQueriesContext(connection) as captured:
        erased = erase_accounts_data(User.objects.filter(pk__in=[u.pk for u in users]).order_by("pk"))
    return len(captured.captured_queries), erased


def test_erasing_more_people_takes_no_more_queries(workspace, queue):
    agent = UserFactory(display_name="Agent Smith", email="agent@example.test")
    MembershipFactory(workspace=workspace, user=agent, role=Role.AGENT)
    # The first erasure creates what later ones find (the account chain's head, cached types).
    _erase_counting(_people(workspace, queue, agent, 1, "w"))
    few = _people(workspace, queue, agent, 2, "a")
    many = _people(workspace, queue, agent, 10, "b")
    few_queries, _ = _erase_counting(few)
    many_queries, erased = _erase_counting(many)
    assert many_queries == few_queries
    # ... and the batch did the work: each person erased, their words redacted, named ones scrubbed.
    for user in many:
        user.refresh_from_db()
        counts, label = erased[user.pk]
        assert not user.is_active and user.display_name == label == pseudonym_for(user).label
        assert counts["messages_redacted"] == 1 and counts["files_deleted"] == 1
        assert counts["sessions_revoked"] == 1 and counts["memberships_ended"] == 1
        assert counts["mentions_replaced"] >= 1
        assert not Membership.objects.filter(user=user).exists()
        assert not Attachment.objects.filter(uploaded_by=user).exists()
        assert Message.objects.filter(author=user, body=REDACTED_MESSAGE).count() == 1
        assert Message.objects.filter(body__contains=f"Hello {label}, see {label}").count() == 1
        assert AuditEvent.objects.filter(action="audit.anonymized", target_id=str(user.pk)).count() == 1
        assert AuditEvent.objects.filter(action="member.removed", target_id=str(user.pk)).count() == 1


def test_member_remove_many_takes_no_more_queries(workspace):
    def measured(count):
        memberships = [MembershipFactory(workspace=workspace, role=Role.REQUESTER) for _ in range(count)]
        with CaptureQueriesContext(connection) as captured:
            assert member_remove_many(memberships=memberships) == count
        assert not Membership.objects.filter(pk__in=[m.pk for m in memberships]).exists()
        events = AuditEvent.objects.filter(
            action="member.removed", target_id__in=[str(m.user_id) for m in memberships]
        )
        assert events.count() == count
        return len(captured.captured_queries)

    measured(1)  # the first one creates the workspace chain's head
    assert measured(2) == measured(10)


def _mentioned(workspace, queue, agent, name, email):
    user = requester_in(workspace, last_login_days=1100, display_name=name, email=email).user
    ticket = TicketFactory(workspace=workspace, queue=queue, requester=agent, status=Status.OPEN)
    return user, ticket


def test_the_narrowed_scrub_still_finds_a_mention_among_common_names(workspace, queue):
    """Many bodies share the first name and the domain; only some name the person."""
    agent = UserFactory(display_name="Agent Smith", email="agent@example.test")
    user, ticket = _mentioned(workspace, queue, agent, "Anna Lee-Smith", "anna.lee@example.test")
    decoys = [
        MessageFactory(ticket=ticket, author=agent, body=f"Anna Leeds wrote about anna{n}@example.test")
        for n in range(20)
    ]
    naming = MessageFactory(
        ticket=ticket, author=agent, body="Call ANNA LEE-SMITH back (Anna.Lee@Example.test)."
    )
    word_inside = MessageFactory(ticket=ticket, author=agent, body="xAnna Lee-Smithy is someone else")
    ctx = _contexts([user])[0]
    entry = registry.entry_for(Message)
    assert "body" in entry.mentions_indexed
    changed = mentions_scrub_many([ctx], entry)
    assert changed == {user.pk: 1}
    naming.refresh_from_db()
    assert naming.body == f"Call {ctx.pseudonym} back ({ctx.pseudonym})."
    for message in [*decoys, word_inside]:
        before = message.body
        message.refresh_from_db()
        assert message.body == before
    subject = registry.entry_for(Ticket)
    assert "subject" in subject.mentions_indexed


def test_no_pattern_is_compiled_for_a_batch_that_no_text_mentions(workspace, queue, monkeypatch):
    """A sweep erases thousands of people, most mentioned nowhere: when no row may mention any
    of a batch, none of their patterns is compiled; when one does, it is still scrubbed."""
    from privacy.personal_data import erasure_context

    compiled = []

    def counting(needles):
        compiled.append(tuple(needles))
        return mention_pattern(needles)

    monkeypatch.setattr(erasure_context, "mention_pattern", counting)
    agent = UserFactory(display_name="Agent Smith", email="agent@example.test")
    unnamed = [
        _mentioned(workspace, queue, agent, f"Nobody Here{n}", f"nobody{n}@example.test")[0] for n in range(5)
    ]
    contexts = _contexts(unnamed)
    assert all(ctx.mentions_email and ctx.mentions_name for ctx in contexts)
    assert mentions_scrub_many(contexts, registry.entry_for(Message)) == {user.pk: 0 for user in unnamed}
    assert compiled == []

    named, ticket = _mentioned(workspace, queue, agent, "Quentin Marlowe", "quentin@example.test")
    message = MessageFactory(ticket=ticket, author=agent, body="Ask Quentin Marlowe (quentin@example.test).")
    contexts = _contexts([named, *unnamed])
    changed = mentions_scrub_many(contexts, registry.entry_for(Message))
    assert changed[named.pk] == 1 and all(changed[user.pk] == 0 for user in unnamed)
    message.refresh_from_db()
    assert message.body == f"Ask {contexts[0].pseudonym} ({contexts[0].pseudonym})."
    assert ("Quentin Marlowe",) in compiled


def test_indexed_candidates_are_a_superset_of_what_the_scrub_changes(workspace, queue):
    if connection.vendor != "postgresql":
        assert _indexed_candidates(Message, "body", ["x"]) is None
        return
    agent = UserFactory(display_name="Agent Smith", email="agent@example.test")
    _user, ticket = _mentioned(workspace, queue, agent, "Zoë O'Brien (50%_off)", "zoe+x@example.test")
    hits = [
        MessageFactory(ticket=ticket, author=agent, body="to zoË o'brien (50%_OFF) today"),
        MessageFactory(ticket=ticket, author=agent, body="mail ZOE+X@EXAMPLE.TEST"),
    ]
    MessageFactory(ticket=ticket, author=agent, body="Zoe OBrien (50 off) zoex@example.test")
    names = ["Zoë O'Brien (50%_off)", "zoe+x@example.test"] + [f"Nobody {n}" for n in range(60)]
    assert _indexed_candidates(Message, "body", names) == sorted(m.pk for m in hits)


def test_a_name_in_a_file_name_is_found_through_the_file_names_index(workspace, queue):
    """Attachment names are searched like subjects and bodies (a trigram index on PostgreSQL,
    migration 0025): the file naming the person is renamed, the others stay."""
    agent = UserFactory(display_name="Agent Smith", email="agent@example.test")
    user, ticket = _mentioned(workspace, queue, agent, "Quentin Blake-Ory", "quentin@example.test")
    naming = attach(ticket, uploader=agent)
    Attachment.objects.filter(pk=naming.pk).update(original_name="Invoice for Quentin Blake-Ory.pdf")
    other = attach(ticket, uploader=agent)
    entry = registry.entry_for(Attachment)
    assert "original_name" in entry.mentions_indexed
    ctx = _contexts([user])[0]
    with CaptureQueriesContext(connection) as queries:
        assert mentions_scrub_many([ctx], entry) == {user.pk: 1}
    naming.refresh_from_db()
    assert naming.original_name == f"Invoice for {ctx.pseudonym}.pdf"
    assert Attachment.objects.get(pk=other.pk).original_name == "scan of Agent Smith.pdf"
    if connection.vendor == "postgresql":
        # The index's own expression, so the planner can use it.
        assert any('UPPER("original_name"::text) ~*' in q["sql"] for q in queries.captured_queries)
