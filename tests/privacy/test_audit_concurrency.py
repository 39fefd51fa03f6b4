"""Concurrent writers, each thread on its own database connection, committing for real.

On PostgreSQL (CI) 4 threads write 200 events each into two workspaces at once; each chain must
come out gapless and verify. On SQLite (one writer at a time) the same runs with 2 threads.
"""

import pytest
from django.db import connection

from privacy.audit import actions
from privacy.audit.log import audit_record, chain_for
from privacy.audit.models import AuditChainHead, AuditEvent
from tests.concurrency import run_threads
from tests.factories import UserFactory, WorkspaceFactory
from tests.privacy.audit_support import request_for, run_verify
from workspaces.access import audit_refused_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_writers_keep_every_chain_gapless_and_valid():
    postgres = connection.vendor == "postgresql"
    threads, per_thread = (4, 200) if postgres else (2, 40)
    first, second = WorkspaceFactory(slug="one"), WorkspaceFactory(slug="two")

    def write(index):
        for i in range(per_thread):
            workspace = first if (i + index) % 2 else second
            audit_record(action=actions.SETTINGS_CHANGED, workspace=workspace, detail={"t": index, "i": i})

    run_threads(threads, write)

    total = threads * per_thread
    assert AuditEvent.objects.count() == total
    for workspace in (first, second):
        chain = chain_for(workspace)
        seqs = list(AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, total // 2 + 1))
        assert AuditChainHead.objects.get(pk=chain).last_seq == total // 2
    ok, out, err = run_verify()
    assert ok, err
    assert f"Verified {total:,} events in 2 chains" in out


def test_concurrent_refusals_of_one_person_write_once_across_workspaces():
    postgres = connection.vendor == "postgresql"
    threads = 6 if postgres else 3
    stranger = UserFactory()
    workspaces = [WorkspaceFactory(slug=f"probe{i}") for i in range(threads)]

    def refuse(index):
        slug = workspaces[index].slug
        request = request_for(f"/w/{slug}/tickets/", user=stranger)
        audit_refused_at(request, slug=slug, reason="not_member")

    run_threads(threads, refuse)

    assert AuditEvent.objects.filter(action=actions.ACCESS_REFUSED, actor_id=stranger.pk).count() == 1
    assert run_verify()[0]
