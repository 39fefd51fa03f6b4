"""The newest tickets whose subject holds a word, from the ordered word index (PostgreSQL).

The subjects' full-text index finds every ticket holding a word, in no useful order: to show a
staff search's newest fifty matches, a search read up to a thousand of them (2,000 table rows
at a million tickets, 5 ms), and past a thousand it showed the newest of those it had read, not
the newest there were. ``tickets.models.SubjectWord`` holds each subject's words in order,
newest ticket first, so a page reads its own rows and a few more.

A typed word means every word it starts ("refund" finds "refunds"): the index is walked from
the typed word to the last word it starts, one step per distinct word (at most
``MAX_WORDS_STARTED``), and each such word's tickets are read newest first, each checked
against the searcher's tickets (visibility, filters, and every other word of the query) until
the page is full.
"""

import re

from django.db.models import BigIntegerField, Expression

from helpdesk import compiled_queries

# Distinct words a typed word may start before the walk gives up: a word this short ("a")
# is left to the full-text index.
MAX_WORDS_STARTED = 50
# Words the index's walk reads exactly as the full-text search does: lower-case ASCII letters
# and digits are one token to PostgreSQL's parser and lower-case already; anything else (an
# accent, an underscore) is left to the full-text index.
_PLAIN = re.compile(r"^[a-z0-9]+$")


# The statement of ``newest``, around its ticket check. ``started``: the index's distinct words
# from the typed word on, one step each, until one does not start with it (or one past the
# most it walks). Each word's tickets are read newest first, each checked, until a page is full;
# the words' pages are merged. One more row, without a ticket, says the word started too many.
_NEWEST_HEAD = (
    "WITH RECURSIVE started(word, n) AS ("
    " (SELECT w.word, 1 FROM tickets_subjectword w WHERE w.workspace_id = %s AND w.word >= %s"
    " ORDER BY w.word LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT w.word FROM tickets_subjectword w WHERE w.workspace_id = %s AND w.word > s.word"
    " ORDER BY w.word LIMIT 1), s.n + 1"
    " FROM started s WHERE starts_with(s.word, %s) AND s.n <= %s)"
    " (SELECT m.ticket_id FROM started s CROSS JOIN LATERAL ("
    " SELECT w.ticket_id FROM tickets_subjectword w"
    " WHERE w.workspace_id = %s AND w.word = s.word AND EXISTS ("
)
_NEWEST_TAIL = (
    ") ORDER BY w.ticket_id DESC LIMIT %s) m"
    " WHERE starts_with(s.word, %s) GROUP BY m.ticket_id ORDER BY m.ticket_id DESC LIMIT %s)"
    " UNION ALL (SELECT NULL FROM started s WHERE s.n > %s AND starts_with(s.word, %s))"
)


class WordsTicket(Expression):
    """The ticket of the word row ``newest``'s statement is at (``w.ticket_id``): what a ticket
    check's queryset is filtered on (``filter(id=WordsTicket())``)."""

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection):
        return "w.ticket_id", []


def driving_word(words: list[str]) -> str | None:
    """The word whose tickets are read: the longest (the fewest tickets, as a rule); None when
    some word is not one the walk reads as the full-text search does."""
    if not words or not all(_PLAIN.match(word) for word in words):
        return None
    return max(words, key=len)


def newest(check: tuple[str, list], *, workspace_id: int, word: str, limit: int) -> list[int] | None:
    """Ids of the newest ``limit`` tickets of the workspace with a subject word starting with
    ``word`` that pass ``check`` (the SQL and parameters of a query of ticket ids filtered on
    ``WordsTicket``), newest first; None when ``word`` starts more than ``MAX_WORDS_STARTED``
    words."""
    check_sql, check_params = check
    # check_sql is a compiled queryset, its values among check_params; the rest is fixed text.
    sql = f"{_NEWEST_HEAD}{check_sql}{_NEWEST_TAIL}"  # noqa: S608  # nosec B608
    params = [
        *(workspace_id, word, workspace_id, word, MAX_WORDS_STARTED, workspace_id),
        *check_params,
        *(limit, word, limit, MAX_WORDS_STARTED, word),
    ]
    rows = compiled_queries.fetch(sql, params)
    if any(row[0] is None for row in rows):
        return None
    return [row[0] for row in rows]
