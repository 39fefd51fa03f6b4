"""The ticket page's "viewed" check (``privacy.audit.log.recent_events``) keeps to its partial
index under a prepared statement's generic plan.

With ``DB_PREPARE`` psycopg prepares a statement on its fifth run, and PostgreSQL may then plan
it once for any parameters: a plan that cannot know the key is not "" cannot use an index built
``WHERE dedupe_key <> ''``, and read every event of the log on every ticket view."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from privacy.audit.log import recent_events
from tests.plans import generic_plan_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        reason="generic plans of prepared statements are PostgreSQL's; CI runs this on PostgreSQL",
    ),
]


def test_the_viewed_check_reads_its_index_in_a_generic_plan():
    plan = generic_plan_of(
        recent_events("viewed:u1:t1", timezone.now() - timedelta(hours=1)).values("pk")[:1]
    )
    assert "audit_dedupe_idx" in plan
    assert "Seq Scan" not in plan
