"""The sweep expires a batch of inactive requesters set-based (one registry walk for all of them):
the same effects and events as expiring and erasing them one after the other, and the number of
queries of the set-based steps does not grow with the number of people."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext

from privacy.account import anonymizers
from privacy.account.anonymizers import SessionIndex, mentions_scrub_many, sessions_holding
from privacy.account.erasure import _context, erase_accounts_data
from privacy.audit.models import AuditEvent
from privacy.personal_data import registry
from privacy.personal_data.erasure_context import HeldObjects
from privacy.personal_data.pseudonyms import pseudonym_for
from privacy.personal_data.retention_kinds import Batch, HoldSet, requester_expiry_hooks
from privacy.retention import sweep as sweep_module
from privacy.retention.models import HoldScope, LegalHold
from privacy.retention.policies import policy_for
from tests.factories import MessageFactory, TicketFactory, UserFactory
from tests.privacy import retention_support
from tests.privacy.retention_support import NOW, closed_ticket, requester_in, set_policy
from tickets.models import Message, Status, Ticket
from tickets.retention_kinds import requesters_expire
from workspaces import retention_kinds as workspace_kinds
from workspaces.models import User

pytestmark = pytest.mark.django_db

frozen = retention_support.frozen
sweep = retention_support.sweep

PEOPLE = ("Ada Alpha", "Bert Beta", "Cleo Gamma")


def _session(user=None, **data):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    if user is not None:
        store["_auth_user_id"] = str(user.pk)
    for key, value in data.items():
        store[key] = value
    # Alive at the sweep's frozen moment (the expired-sessions kind would take it otherwise).
    store.set_expiry(NOW + timedelta(days=30))
    store.create()
    return store.session_key


def _scenario(workspace, queue, tag: str):
    """Three inactive requesters who name each other, with sessions; a hold on the third;
    an active requester and an agent who stay."""
    people = [
        requester_in(
            workspace,
            last_login_days=1100,
            display_name=name,
            email=f"{name.split()[0].lower()}@{tag}.example",
        )
        for name in PEOPLE
    ]
    agent = UserFactory(display_name=f"Agent {tag}", email=f"agent@{tag}.example")
    staying = requester_in(
        workspace, last_login_days=10, display_name=f"Stay {tag}", email=f"stay@{tag}.example"
    )
    users = [m.user for m in people]
    for i, user in enumerate(users):
        other = users[(i + 1) % len(users)]
        ticket = TicketFactory(
            workspace=workspace,
            queue=queue,
            requester=user,
            status=Status.OPEN,
            subject=f"About {other.display_name}",
        )
        MessageFactory(ticket=ticket, author=user, body=f"I am {user.display_name}, ask {other.email}")
        MessageFactory(ticket=ticket, author=agent, body=f"Dear {user.display_name} ({user.email})")
        closed_ticket(workspace, queue, requester=user, agent=agent, closed_days=100, files=False)
        _session(user)
        _session(None, signup_email=user.email)
    # The staying requester's words mention the first person: the mentions pass rewrites them.
    mine = TicketFactory(
        workspace=workspace, queue=queue, requester=staying.user, status=Status.OPEN, subject="Mine"
    )
    MessageFactory(
        ticket=mine, author=staying.user, body=f"{users[0].display_name} <{users[0].email}> said so"
    )
    _session(staying.user)
    LegalHold.objects.create(workspace=workspace, scope=HoldScope.PERSON, user=users[2], reason="case")
    return users, staying.user, [u.email for u in users]


def _outcome(workspace, users, staying, emails):
    """What the sweep left, with each person's ids, addresses and pseudonym written as P0, P1..."""
    names = {}
    for i, user in enumerate(users):
        user.refresh_from_db()
        for text in (pseudonym_for(user).label, user.email, str(user.pk)):
            names[text] = f"P{i}"

    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))

    def plain(text):
        # One pass: a label put in never gets replaced again.
        return pattern.sub(lambda match: names[match.group(0)], str(text))

    who = {user.pk: f"P{i}" for i, user in enumerate(users)} | {staying.pk: "staying", None: None}
    tickets = Ticket.objects.filter(workspace=workspace).order_by("number")
    messages = Message.objects.filter(workspace=workspace).order_by("ticket__number", "pk")
    index = SessionIndex()
    events = AuditEvent.objects.filter(
        target_type="workspaces.user", target_id__in=[str(u.pk) for u in users]
    )
    return {
        "users": [
            (plain(u.email), plain(u.display_name), u.is_active, u.has_usable_password()) for u in users
        ],
        "tickets": [
            (
                plain(t.subject),
                who.get(t.requester_id, "agent"),
                plain(t.requester_pseudonym),
                t.anonymized_at,
            )
            for t in tickets
        ],
        "messages": [(plain(m.body), who.get(m.author_id, "agent")) for m in messages],
        "sessions": [len(index.holding(user_id=u.pk, emails=[email])) for u, email in zip(users, emails)]
        + [len(index.holding(user_id=staying.pk))],
        # The same events; a batch writes each kind of event for all of them together, so the
        # order differs.
        "events": sorted(
            (e.action, plain(e.target_id), e.chain == "account", repr(sorted(e.detail.items())))
            for e in events
        ),
    }


def _one_by_one(monkeypatch):
    """The path the sweep took before batches: each person expired and erased on their own."""
    monkeypatch.setattr(sweep_module, "_erase_accounts", None)

    def each(batch, user_ids):
        for user_id in user_ids:
            for expire in requester_expiry_hooks():
                expire(batch, user_id)

    monkeypatch.setattr(workspace_kinds, "requesters_expiry_hooks", lambda: (each,))


def test_a_batch_ends_like_erasing_them_one_after_the_other(
    frozen, workspace, other_workspace, queue, sweep, monkeypatch
):
    from tests.factories import QueueFactory

    other_queue = QueueFactory(workspace=other_workspace, name="Support")
    one_users, one_staying, one_emails = _scenario(workspace, queue, "one")
    set_policy(other_workspace, requesters_days=None, tickets_days=None)
    set_policy(workspace, tickets_days=None)
    batched_users, batched_staying, batched_emails = _scenario(other_workspace, other_queue, "many")
    with monkeypatch.context() as patched:
        _one_by_one(patched)
        sweep()
    set_policy(other_workspace, requesters_days=1095)
    sweep()

    one = _outcome(workspace, one_users, one_staying, one_emails)
    many = _outcome(other_workspace, batched_users, batched_staying, batched_emails)
    assert one["users"][0][2:] == (False, False)  # erased: inactive, no password
    assert "<P0> said so" in one["messages"][-1][0]  # the mentions pass ran
    # The erased people's sessions and the sign-up pages naming them are gone; the held
    # person's and the staying requester's are left.
    assert one["sessions"] == [0, 0, 2, 1]
    for part in ("users", "tickets", "messages", "sessions", "events"):
        assert many[part] == one[part], part


def _people(workspace, count):
    return [requester_in(workspace, last_login_days=1100).user for _ in range(count)]


def _batch(workspace, ids=()):
    return Batch(
        workspace_id=workspace.pk,
        ids=list(ids),
        policy=policy_for(workspace),
        holds=HoldSet(),
        now=NOW,
        queue_files=lambda names: list(names),
        erase_account=lambda user: None,
    )


@pytest.mark.parametrize("count", [2, 5])
def test_set_based_steps_take_the_same_queries_for_more_people(frozen, workspace, queue, count, request):
    def measured(count):
        users = _people(workspace, count)
        for user in users:
            ticket = TicketFactory(workspace=workspace, queue=queue, requester=user, status=Status.CLOSED)
            MessageFactory(ticket=ticket, author=user, body=f"From {user.display_name}")
            _session(user)
        contexts = [_context(u, pseudonym=pseudonym_for(u).label, held=HeldObjects()) for u in users]
        queries = {}
        with CaptureQueriesContext(connection) as ctx:
            requesters_expire(_batch(workspace), [u.pk for u in users])
        queries["expire"] = len(ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            SessionIndex()
        queries["sessions"] = len(ctx.captured_queries)
        entry = registry.entry_for(Message)
        with CaptureQueriesContext(connection) as ctx:
            mentions_scrub_many(contexts, entry)
        queries["mentions"] = len(ctx.captured_queries)
        with CaptureQueriesContext(connection) as ctx:
            registry.entry_for("workspaces.RecoveryCode").delete_rows_of_many(users)
        queries["delete"] = len(ctx.captured_queries)
        return queries

    assert measured(count) == measured(count + 3)


def test_session_index_answers_what_decoding_each_time_does(workspace):
    people = _people(workspace, 3)
    for user in people:
        _session(user)
        _session(None, signup_email=user.email.upper())
    _session(None, note="nothing")
    index = SessionIndex()
    for user in people:
        assert index.holding(user_id=user.pk, emails=[user.email]) == sessions_holding(
            user_id=user.pk, emails=[user.email]
        )
        assert len(index.holding(user_id=user.pk, emails=[user.email])) == 2
    # Text without an "@" (the index reads only texts with one for addresses) is still found.
    assert index.holding(emails=["nothing"]) == sessions_holding(emails=["nothing"])
    assert len(index.holding(emails=["nothing"])) == 1


def test_session_index_keeps_the_tables_order_across_signed_in_and_remembered(workspace):
    user = _people(workspace, 1)[0]
    keys = [_session(user), _session(None, signup_email=user.email), _session(user, note="x")]
    index = SessionIndex()
    expected = sessions_holding(user_id=user.pk, emails=[user.email])
    assert sorted(expected) == sorted(keys)
    assert index.holding(user_id=user.pk, emails=[user.email]) == expected


def test_erasing_a_batch_decodes_the_sessions_once(workspace, monkeypatch):
    people = _people(workspace, 4)
    for user in people:
        _session(user)
    built = []
    original = anonymizers.SessionIndex.__init__

    def counting(self):
        built.append(1)
        original(self)

    monkeypatch.setattr(anonymizers.SessionIndex, "__init__", counting)
    monkeypatch.setattr(anonymizers, "sessions_holding", lambda **kw: pytest.fail("decoded per person"))
    erased = erase_accounts_data(User.objects.filter(pk__in=[u.pk for u in people]).order_by("pk"))
    assert len(built) == 1
    assert {user_id: counts["sessions_revoked"] for user_id, (counts, _) in erased.items()} == {
        u.pk: 1 for u in people
    }
    assert not Session.objects.exists()


def test_a_held_requester_keeps_held_tickets_in_a_batch(frozen, workspace, queue, sweep):
    held, free = _people(workspace, 2)
    kept = TicketFactory(workspace=workspace, queue=queue, requester=held, status=Status.OPEN, subject="Held")
    gone = TicketFactory(workspace=workspace, queue=queue, requester=free, status=Status.OPEN, subject="Free")
    LegalHold.objects.create(workspace=workspace, scope=HoldScope.PERSON, user=held, reason="case")
    sweep()
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert kept.subject == "Held" and kept.anonymized_at is None
    assert gone.anonymized_at == NOW
