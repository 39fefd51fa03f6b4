"""The texts that stand in for removed subjects and message bodies.

Their own module because the search indexes leave the retention markers out (partial indexes,
tickets/migrations/0024_search_indexes_without_markers.py): the search, erasure's mentions pass
and anonymization all need the same strings, and a change here needs a migration there.
"""

REDACTED_MESSAGE = "[Removed: the author of this message deleted their account.]"
RETENTION_MESSAGE = "[Removed by the workspace's retention policy.]"
RETENTION_SUBJECT = "[Removed by retention policy]"
