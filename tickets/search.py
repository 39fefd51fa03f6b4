"""Ticket search: every word in any order, word prefixes, close spellings, ranked, capped.

A ticket matches when its subject, or one message the searcher may read, holds every word of the
query (as a word or the start of one: "refund dup" finds "Refund for duplicate charge"). Message
text comes only through ``visible_messages``: a requester's search never reads an internal note.

The index is the database's own full-text index:

- PostgreSQL: GIN indexes on ``to_tsvector('simple', subject)`` and ``to_tsvector('simple',
  body)`` (migration 0011), queried with a prefix ``tsquery``, newest ticket first; the
  'simple' configuration does not stem, so it serves every language alike, and prefixes stand
  in for stemming. When nothing matches, ``pg_trgm`` word similarity on the same columns (the
  trigram indexes of migration 0005) finds close spellings ("prnter" -> "printer").
- SQLite (the embedded default): FTS5 tables kept in step by triggers (same migration), messages
  ranked with ``bm25``; close spellings come from the FTS5 vocabulary and ``difflib``.

At most ``SEARCH_CAP`` tickets are collected per part (subject, messages) and only those are
ranked, so a word that is in every ticket costs the same as a rare one: the page then says
"more than 1,000 results" and the person narrows the search. For staff on PostgreSQL, words the
planner's statistics put in many subjects or messages (``EXACT_FIRST``) are matched as whole
words before their starts, and words in a tenth of all messages are looked for in the newest
messages first (``COMMON_SHARE``).
"""

import difflib
import functools
import html
import re
import time
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Func, OuterRef, TextField, Value
from django.db.models.functions import Cast, Upper
from django.utils.safestring import SafeString, mark_safe

from helpdesk import compiled_queries
from helpdesk.compiled_queries import custom_plans
from helpdesk.id_arrays import InIdArray, id_array_literal
from helpdesk.partial_index import DiffersFrom
from helpdesk.text import strip_bidi
from tickets import subject_words
from tickets.markers import RETENTION_MESSAGE, RETENTION_SUBJECT

SEARCH_CAP = 1000
MAX_WORDS = 8
SNIPPET_BEFORE = 60
SNIPPET_AFTER = 120
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"^#?(\d{1,9})$")
# Words this short match far too much as prefixes, and have no useful close spellings.
MIN_FUZZY_LENGTH = 4
# PostgreSQL's trigram word similarity a close spelling needs.
FUZZY_THRESHOLD = 0.45
# Staff searches on PostgreSQL: index entries per word past which the full-text index hands over
# a sample (gin_fuzzy_search_limit), so a word in every message costs what a rarer one does.
GIN_SAMPLE = 20_000
# Staff searches: matching messages collected before their tickets are checked (see _ranked).
MESSAGE_CANDIDATES = 2 * SEARCH_CAP
# Staff searches on PostgreSQL for words in at least this share of all messages (the planner's
# statistics of the full-text index say so): the full-text index would decode the word's whole
# posting list (a third of a million entries, 550 ms at 1M tickets) before handing a row over.
# Such a word is found in nearly every message, so the newest messages are read instead, newest
# first, until COMMON_CANDIDATES of them match: the newest matches, in a bounded time.
COMMON_SHARE = 0.1
COMMON_CANDIDATES = 500
# For such a word: the planner does not know that it is in most messages (its estimate for a
# prefix is a few percent), so it may choose to read all of a workspace's messages and sort
# them by time (0.8 s for a workspace of 30,000 messages when each body's text vector was built),
# rather than read them newest first and stop at COMMON_CANDIDATES matches. Without a sort it
# must read them in order; one process, because starting workers cost more than the read.
COMMON_WORD_SETTINGS = {"enable_sort": "off", "max_parallel_workers_per_gather": 0}
# Staff searches on PostgreSQL: when the statistics say the query's whole words are in this many
# times SEARCH_CAP subjects (MESSAGE_CANDIDATES messages), subjects (messages) are matched on the
# whole words before their starts.
EXACT_FIRST = 2


@dataclass
class SearchHits:
    ranked_ids: list[int] = field(default_factory=list)  # best first, at most 2 x SEARCH_CAP
    capped: bool = False  # some part stopped at SEARCH_CAP: there are more matches
    fuzzy: bool = False  # nothing matched as typed; these are close spellings
    words: list[str] = field(default_factory=list)  # what to highlight
    # {ticket id: ids of its matching messages that were collected}: where snippets come from.
    # ``messages_complete``: every matching message was collected (the message part did not
    # stop at its cap), so a ticket missing from ``message_ids`` has none.
    message_ids: dict[int, list[int]] = field(default_factory=dict)
    messages_complete: bool = True
    # False: these are only the newest subject matches a page needs (``search``'s
    # ``newest_subjects``); how many there are in all is not known, and is counted apart.
    counted: bool = True
    # The pages of this search show the newest matches there are (the ordered word index
    # serves their subjects, and no message was left at a cap in the full-text index's order):
    # a capped search leaves out older matches, not newer.
    in_order: bool = False

    @property
    def count(self) -> int:
        return len(self.ranked_ids)


def words_of(query: str) -> list[str]:
    """The query's distinct words, lower-cased, at most ``MAX_WORDS``."""
    words: list[str] = []
    for word in _WORD.findall(query.lower()):
        word = word.strip("_")
        if word and word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def search(
    tickets,
    messages,
    query: str,
    *,
    staff: bool,
    shape=None,
    best_first: bool = False,
    newest_subjects: int = 0,
    workspace_id: int | None = None,
) -> SearchHits:
    """Rank the ``tickets`` (a filtered, visible queryset) that match ``query``.

    ``messages`` are the messages the searcher may read (notes only for staff): for staff, all
    of the workspace's (each match is checked against ``tickets`` before it counts); for a
    requester, ``visible_messages``. ``staff`` says which.

    ``shape``: everything ``tickets`` and ``messages`` are built from (as
    ``compiled_queries.rows_of`` asks), when the caller can name it: the search's statements
    are then compiled once per shape and run with each search's words.

    ``best_first``: the caller shows (or counts) the hits in their ranked order, not sorted
    otherwise. Every subject match ranks above every message match, so when the subjects alone
    fill SEARCH_CAP no message match could be among the hits shown first: messages are then
    not searched at all (``_ranked``).

    ``newest_subjects``: the caller shows the hits best first and needs only the first this
    many (a page, and one more to know there is a next), of the tickets of ``workspace_id``.
    For staff on PostgreSQL the newest subject matches are then read in order
    (tickets/subject_words.py); when there are that many, they are the hits, uncounted
    (``SearchHits.counted``), and nothing else is searched.
    """
    words = words_of(query)
    hits = SearchHits(words=words)
    if not words:
        return hits
    backend = (_Postgres if connection.vendor == "postgresql" else _Sqlite)(staff, shape, best_first)
    numbered: list[int] = []
    number = _NUMBER.match(query.strip())
    if number:
        # "#123" (or "123") puts that ticket first, above every text match.
        numbered = list(tickets.filter(number=int(number.group(1))).values_list("id", flat=True))
    subjects = None
    in_order = best_first and not numbered and isinstance(backend, _Postgres)
    hits.in_order = in_order and backend.reads_in_order(words)
    if newest_subjects and workspace_id and hits.in_order:
        subjects = backend.newest_subjects(tickets, words, workspace_id, newest_subjects)
        if subjects is not None and len(subjects) >= newest_subjects:
            capped = len(subjects) >= SEARCH_CAP
            return SearchHits(
                subjects, capped, words=words, messages_complete=False, counted=False, in_order=True
            )
    found = backend.matches(tickets, messages, words, subjects=subjects)
    if not any(found.parts) and not numbered:
        corrected = backend.close_spellings(tickets, messages, words)
        if corrected is not None:
            found, hits.words = corrected
            hits.fuzzy = any(found.parts)
            hits.in_order = False  # close spellings: the trigram indexes' choice
    hits.in_order = hits.in_order and found.messages_in_order
    hits.capped = found.capped
    hits.messages_complete = found.messages_complete
    for ticket_id, message_id in found.messages:
        hits.message_ids.setdefault(ticket_id, []).append(message_id)
    hits.ranked_ids = _best_first(numbered, found.parts)
    return hits


def _best_first(numbered: list[int], parts) -> list[int]:
    """The ids of the tickets found, best first: the ticket whose number was searched, then
    each part's tickets in turn (every subject match above every message match), within a part
    by rank and then newest (highest id) first; on PostgreSQL neither part is ranked, so each is
    newest first, and on SQLite bm25 ranks the messages. A ticket is listed once, where it ranks
    best.

    A part with no ranks (PostgreSQL's, both parts) is put in order by sorting its ids alone:
    ranking a thousand subject matches pair by pair was 0.6 ms of a search."""
    ordered = sorted(set(numbered), reverse=True)
    placed = set(ordered)
    for part in parts:
        if not any(rank for _ticket_id, rank in part):
            fresh = {ticket_id for ticket_id, _rank in part} - placed
            ordered += sorted(fresh, reverse=True)
        else:
            best: dict[int, float] = {}
            for ticket_id, rank in part:
                rank = rank or 0.0
                if ticket_id not in placed and rank > best.get(ticket_id, float("-inf")):
                    best[ticket_id] = rank
            fresh = best.keys()
            ordered += [pk for _rank, pk in sorted(zip(best.values(), best, strict=True), reverse=True)]
        placed.update(fresh)
    return ordered


def snippets(messages, ticket_ids, hits: SearchHits) -> dict[int, SafeString]:
    """For each ticket of a page, a short highlighted excerpt of its first matching message,
    where the page's own statement did not read the bodies (``page_bodies``: PostgreSQL's way).

    When the search collected every matching message of its tickets (``hits.message_ids``),
    their bodies are read by id: no body is searched in the database a second time. When it
    stopped collecting before the end (a common word), the page's tickets may have matching
    messages it did not collect: all of their messages are read."""
    if not hits.words or not ticket_ids:
        return {}
    if hits.messages_complete:
        message_ids = _page_message_ids(hits, ticket_ids)
        rows = _bodies(messages.filter(id__in=message_ids)) if message_ids else []
    else:
        rows = _bodies(messages.filter(ticket_id__in=ticket_ids))
    bodies: dict[int, list[str]] = {}
    for ticket_id, body in rows:
        bodies.setdefault(ticket_id, []).append(body)
    return excerpts(bodies, hits.words)


def excerpts(bodies: dict, words: list[str]) -> dict[int, SafeString]:
    """{ticket id: the highlighted excerpt of the first of its bodies (earliest first) that
    holds the start of one of ``words`` as the highlighting marks them}, for the tickets of
    ``bodies`` ({ticket id: bodies}) that have one."""
    pattern = _highlight_pattern(words)
    found = {}
    for ticket_id, of_ticket in bodies.items():
        for body in of_ticket:
            excerpt = _excerpt(body, pattern)
            if excerpt is not None:
                found[ticket_id] = excerpt
                break
    return found


PAGE_BODIES = "search_bodies"


def page_bodies(messages, ticket_ids, hits: SearchHits):
    """How a page of results is read in one statement with the message bodies its excerpts
    come from (PostgreSQL): ``(name, annotate, values)``, where ``annotate(tickets, **values)``
    gives each of ``ticket_ids``, as ``PAGE_BODIES``, bodies of its messages, earliest first,
    and ``name`` tells the two statements apart; None when the page needs none, or elsewhere
    (``snippets``). The bodies are those of the matching messages the search collected; when
    it stopped collecting before the end (a common word), each ticket's first message holding
    the start of one of the words. They were read by a statement of their own after the page's:
    one round trip more for every search page."""
    if not hits.words or not ticket_ids or connection.vendor != "postgresql":
        return None
    if hits.messages_complete:
        message_ids = _page_message_ids(hits, ticket_ids)
        if not message_ids:
            return None

        def collected(tickets, message_ids):
            return tickets.annotate(
                **{PAGE_BODIES: _ticket_bodies(messages.filter(InIdArray("id", message_ids)))}
            )

        return "bodies by id", collected, {"message_ids": id_array_literal(message_ids)}

    def first_start(tickets, starts):
        return tickets.annotate(
            **{PAGE_BODIES: _ticket_bodies(messages.filter(body__iregex=starts), first=True)}
        )

    return "first word start", first_start, {"starts": _any_word_start(hits.words)}


def _page_message_ids(hits: SearchHits, ticket_ids) -> list[int]:
    return [m for t in ticket_ids for m in hits.message_ids.get(t, ())]


def _ticket_bodies(messages, *, first: bool = False) -> ArraySubquery:
    """The bodies of ``messages`` of the outer query's ticket, earliest first (only the first,
    with ``first``), as an array."""
    bodies = messages.filter(ticket_id=OuterRef("id")).order_by("created_at", "id").values("body")
    return ArraySubquery(bodies[:1] if first else bodies)


def _bodies(messages):
    """(ticket id, body) of ``messages``, earliest first within each ticket."""
    return messages.order_by("ticket_id", "created_at", "id").values_list("ticket_id", "body")


def highlight(text: str, words: list[str]) -> SafeString:
    """``text`` escaped, isolated in ``<bdi>`` like every name and subject (helpdesk.text), with
    the searched words (and words they start) in ``<mark>``."""
    text = strip_bidi(text)
    return _safe(f"<bdi>{_marked(text, _highlight_pattern(words)) if words else html.escape(text)}</bdi>")


@functools.lru_cache(maxsize=256)
def _pattern_of(words: tuple[str, ...]) -> re.Pattern:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)


def _highlight_pattern(words: list[str]) -> re.Pattern:
    # Once per search, not once per row of its page.
    return _pattern_of(tuple(words))


def _marked(text: str, pattern: re.Pattern) -> str:
    """``text`` escaped, its matches in ``<mark>``: every piece goes through ``html.escape`` (as
    ``escape`` does), only the ``<mark>`` tags are markup."""
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces.append(f"{html.escape(text[last : match.start()])}<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def _safe(marked: str) -> SafeString:
    # Safe: built only from _marked's escaped pieces, html.escape'd text and literal markup.
    return mark_safe(marked)  # noqa: S308  # nosec B308 B703


def _excerpt(body: str, pattern: re.Pattern) -> SafeString | None:
    match = pattern.search(body)
    if match is None:
        return None
    start = max(0, match.start() - SNIPPET_BEFORE)
    end = min(len(body), match.end() + SNIPPET_AFTER)
    # Cut at spaces, not inside a word.
    if start > 0:
        space = body.find(" ", start, match.start())
        start = space + 1 if space != -1 else start
    if end < len(body):
        space = body.rfind(" ", match.end(), end)
        end = space if space != -1 else end
    text = " ".join(strip_bidi(body[start:end]).split())
    return _safe(f"{'… ' if start > 0 else ''}{_marked(text, pattern)}{' …' if end < len(body) else ''}")


# Expressions ----------------------------------------------------------------------------------
# Small expressions instead of raw SQL: the searched text always travels as a query parameter.


class _PgVector(Func):
    function = "to_tsvector"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"


class _PgVectorOfOwnRows(_PgVector):
    # Not the indexed expression, on purpose: a requester's few tickets are read through their
    # own indexes and each message checked, instead of the workspace-wide full-text index
    # handing over every match of a common word in other people's tickets first.
    template = "%(function)s('simple'::regconfig, %(expressions)s || '')"


class _PgQuery(Func):
    function = "to_tsquery"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"


class _PgMatches(Func):
    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


class _PgSimilarTo(Func):
    # pg_trgm: word similarity of the word (left) to some word of the text above the threshold.
    template = "%(expressions)s"
    arg_joiner = " <%% "
    output_field = BooleanField()


class _PgWordSimilarity(Func):
    function = "word_similarity"
    output_field = FloatField()


class _SqliteFts(Func):
    """``id IN`` the FTS5 matches (as a filter), or their bm25 rank, best highest (as a value)."""

    def __init__(self, table: str, row_id, match: str, *, rank: bool):
        self.table, self.match, self.rank = table, match, rank
        super().__init__(row_id, output_field=FloatField() if rank else BooleanField())

    def as_sql(self, compiler, connection, **extra):
        id_sql, id_params = compiler.compile(self.source_expressions[0])
        t = self.table  # one of two constants below, never input
        # The table is one of two constants and id_sql is Django's compiled column; the searched
        # words travel as a parameter (%s).
        if self.rank:
            sql = f"-(SELECT bm25({t}) FROM {t} WHERE {t} MATCH %s AND {t}.rowid = {id_sql})"  # noqa: S608  # nosec B608
            return sql, [self.match, *id_params]
        return f"{id_sql} IN (SELECT rowid FROM {t} WHERE {t} MATCH %s)", [*id_params, self.match]  # noqa: S608  # nosec B608


def _searchable(tickets, messages):
    """The tickets and messages whose text a search reads: not the retention markers. They name
    nothing anyone looks for, and on PostgreSQL the search indexes leave them out (partial
    indexes, migration 0024): a query without the same condition could not use them."""
    return (
        tickets.filter(DiffersFrom("subject", RETENTION_SUBJECT)),
        messages.filter(DiffersFrom("body", RETENTION_MESSAGE)),
    )


class _NoRank(Cast):
    """A rank of 0.0, read as the float it is: Django's conversion of a float column is a call
    per row, and a capped search reads up to 3,000 rows."""

    convert_value = staticmethod(Cast._convert_value_noop)

    def __init__(self):
        super().__init__(Value(0.0), FloatField())


def _unranked(rows):
    """``rows`` with no rank of their own: ``search`` then puts the newest ticket first within
    their tier (its sort key breaks ties by id)."""
    return rows.annotate(rank=_NoRank())


def _text(column: str):
    return Upper(Cast(F(column), TextField()))


def _rows(shape, name: str, build, **values) -> list[tuple]:
    """The rows of ``build(**values)`` (a ``values_list`` queryset), its SQL compiled once per
    ``shape`` and ``name`` (helpdesk.compiled_queries) when the caller named the shape. ``name``
    says which statement, with whatever else goes into its SQL (its limit)."""
    if shape is None:
        return [tuple(row) for row in build(**values)]
    return compiled_queries.tuples_of((*shape, name), build, values)


def _ranked(
    tickets,
    subject_matches,
    message_matches,
    *,
    words: dict,
    staff: bool,
    newest_first: bool = False,
    shape=None,
    message_words: list[dict] | None = None,
    subject_words: list[dict] | None = None,
    best_first: bool = False,
    subjects: list[int] | None = None,
):
    """The two parts' (ticket id, rank) pairs, at most SEARCH_CAP each, whether there may be
    more than were collected, and the matching messages collected (``_Found``).
    ``subject_matches(**words)`` and ``message_matches(**words)`` make the matching rows'
    querysets from the words as the backend matches them, so that with a ``shape`` each
    statement is compiled once and then run with each search's words. ``subject_words`` and
    ``message_words``, when a part is matched otherwise than with ``words``: the words to
    match it with, tried in turn until one collects as many rows as the part collects (the
    last one's rows are kept otherwise).

    The matching messages are of the whole workspace (staff) or of the searcher's own tickets
    (requesters). For staff, the matching messages come first and only their tickets are then
    checked against ``tickets`` (visibility and filters): a lookup of at most MESSAGE_CANDIDATES
    ids instead of joining every ticket the agent may see (half a million in a large workspace)
    to the messages. Nothing is shown of a ticket that check drops.

    ``subjects``: the ids of every subject match, when already known (``search``'s newest
    subjects, fewer than it asked for): the subjects are then not searched again.
    """
    if subjects is not None:
        by_subject = [(ticket_id, 0.0) for ticket_id in subjects]
    else:
        by_subject = _first_filling(
            shape,
            f"subjects {SEARCH_CAP}",
            subject_words or [words],
            SEARCH_CAP,
            lambda **words: subject_matches(**words).order_by().values_list("id", "rank")[:SEARCH_CAP],
        )
    capped = len(by_subject) >= SEARCH_CAP
    if capped and best_first:
        # The subjects filled the cap and rank above any message: searching the messages (for
        # a common word at 1M tickets, 3.9 ms of SQL; the page went from 27 to 21.6 ms) could
        # only add hits past the first SEARCH_CAP. A page's excerpts are then looked for in its
        # own tickets' messages (``page_bodies``, as when the message part stops at its cap).
        return _Found([by_subject, []], True, [], False)
    message_words = message_words or [words]
    collect = COMMON_CANDIDATES if newest_first else MESSAGE_CANDIDATES
    # Newest first in the (workspace, created_at) index's order: only the workspace's rows are read.
    order = ("-created_at",) if newest_first else ()
    if not staff:
        own = _first_filling(
            shape,
            f"own messages {SEARCH_CAP}",
            message_words,
            SEARCH_CAP,
            lambda **words: (
                message_matches(**words)
                .filter(ticket_id__in=tickets.order_by().values("id"))
                .order_by()
                .values_list("ticket_id", "rank", "id")[:SEARCH_CAP]
            ),
        )
        complete = len(own) < SEARCH_CAP
        return _Found([by_subject, [row[:2] for row in own]], capped or not complete, _pairs(own), complete)

    def build(**words):
        return message_matches(**words).order_by(*order).values_list("ticket_id", "rank", "id")[:collect]

    name = f"messages {newest_first} {collect}"
    if connection.vendor == "postgresql" and shape is not None:
        candidates, kept = _visible_candidates(tickets, shape, name, message_words, collect, build)
    else:
        candidates, kept = _checked_candidates(tickets, shape, name, message_words, collect, build)
    matching = [row for row in candidates if row[0] in kept]
    complete = len(candidates) < collect
    by_message = [row[:2] for row in matching][:SEARCH_CAP]
    capped = capped or not complete or len(by_message) >= SEARCH_CAP
    return _Found([by_subject, by_message], capped, _pairs(matching), complete)


def _first_filling(shape, name: str, tries: list[dict], cap: int, build) -> list:
    """``_rows(shape, name, build, **words)`` for each of ``tries`` in turn, until one returns
    ``cap`` rows: its rows (the last one's when none does)."""
    return _until_filled(tries, cap, lambda words: _rows(shape, name, build, **words))


def _until_filled(tries: list[dict], cap: int, run) -> list:
    """``run(words)`` for each of ``tries`` in turn, until one returns ``cap`` rows: its rows
    (the last one's when none does)."""
    for words in tries:
        rows = run(words)
        if len(rows) >= cap:
            break
    return rows


def _checked_candidates(tickets, shape, name, tries, collect, build):
    """(matching messages' rows, the ids of their tickets that are among ``tickets``): the
    messages first, then their tickets checked (a lookup of at most ``collect`` ids)."""
    candidates = _first_filling(shape, name, tries, collect, build)
    candidate_ids = sorted({row[0] for row in candidates})
    if not candidate_ids:
        return candidates, set()
    if connection.vendor == "postgresql":
        # As an array, not a list of literals: the planner then probes the primary key per id
        # instead of reading every ticket of the agent's queues and filtering them. The array
        # travels as one text parameter, so the statement is the same for any number of ids.
        kept = _rows(
            shape,
            "kept",
            lambda ids: tickets.order_by().filter(InIdArray("id", ids)).values_list("id"),
            ids=id_array_literal(candidate_ids),
        )
    else:
        kept = tickets.order_by().filter(id__in=candidate_ids).values_list("id")
    return candidates, {row[0] for row in kept}


_CANDIDATES = "search_candidates"


class _AmongCandidates(Func):
    """``column = ANY(ARRAY(the candidates' ticket ids))``: the tickets of the matching messages
    ``_visible_candidates`` collects, looked up by primary key as ``InIdArray`` does."""

    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        # _CANDIDATES is a constant: the name of the statement's own WITH query.
        return f"{column} = ANY(ARRAY(SELECT ticket_id FROM {_CANDIDATES}))", params  # noqa: S608  # nosec B608


def _visible_candidates(tickets, shape, name, tries, collect, build):
    """``_checked_candidates`` in one statement per try (PostgreSQL, a kept shape): the matching
    messages as a WITH query, each marked with whether its ticket is among ``tickets``. The
    check was a statement of its own, and at 10k tickets the costliest of a rare word's search
    (2.5 ms of 11)."""
    kept = compiled_queries.statement_of(
        (*shape, "kept among candidates"),
        lambda: tickets.order_by().filter(_AmongCandidates("id")).values_list("id"),
    )
    if kept is None:  # the tickets cannot be compiled into a statement (none can match)
        return _checked_candidates(tickets, shape, name, tries, collect, build)

    def marked(words):
        messages = compiled_queries.statement_of((*shape, name), build, words)
        if messages is None:  # no message can match
            return []
        return compiled_queries.fetch(
            # Both parts are compiled querysets; the searched words are among their parameters.
            f"WITH {_CANDIDATES} AS MATERIALIZED ({messages[0]})"  # noqa: S608  # nosec B608
            f" SELECT c.ticket_id, c.rank, c.id, c.ticket_id IN ({kept[0]}) FROM {_CANDIDATES} c",
            [*messages[1], *kept[1]],
        )

    rows = _until_filled(tries, collect, marked)
    return [row[:3] for row in rows], {row[0] for row in rows if row[3]}


@dataclass
class _Found:
    parts: list  # [subject matches, message matches]: (ticket id, rank) pairs, at most SEARCH_CAP each
    capped: bool  # there may be more matches than were collected
    messages: list[tuple[int, int]]  # (ticket id, message id) of the matching messages collected
    messages_complete: bool  # no matching message was left uncollected
    # The messages' tickets are the newest that match (all of them, or read newest first), or
    # none could be among the hits: no newer one is left out.
    messages_in_order: bool = True


def _pairs(rows) -> list[tuple[int, int]]:
    """(ticket id, message id) of message rows (ticket id, rank, message id)."""
    return [(row[0], row[2]) for row in rows]


# PostgreSQL -----------------------------------------------------------------------------------


# The statistics change only when PostgreSQL analyzes the tables (autovacuum, after a share of
# them changed): read once per process and database every WORD_SHARES_TTL seconds, not on every
# search (a query of about half a millisecond, a tenth of a rare word's search).
WORD_SHARES_TTL = 300.0
# The full-text indexes whose statistics a staff search reads: messages' and subjects'.
_MESSAGES_INDEX, _SUBJECTS_INDEX = "message_body_fts", "ticket_subject_fts"
_word_shares: dict[str, tuple[float, dict[str, tuple[dict[str, float], float]]]] = {}


def forget_word_shares() -> None:
    """Read the statistics afresh at the next search (tests: after an ``ANALYZE``)."""
    _word_shares.clear()


def _word_statistics() -> dict[str, tuple[dict[str, float], float]]:
    """{index: ({word: share of the rows holding it}, rows)} of the messages' and subjects'
    full-text indexes, as the planner's statistics have them (words not among the most common
    ones are missing), in one query."""
    database = connection.settings_dict["NAME"]
    kept = _word_shares.get(database)
    now = time.monotonic()
    if kept is not None and now - kept[0] < WORD_SHARES_TTL:
        return kept[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples"
            " FROM pg_class c LEFT JOIN pg_stats s"
            " ON s.schemaname = current_schema() AND s.tablename = c.relname"
            " WHERE c.relname = ANY(%s) AND c.relnamespace = current_schema()::regnamespace",
            [[_MESSAGES_INDEX, _SUBJECTS_INDEX]],
        )
        rows = cursor.fetchall()
    statistics = {
        # reltuples is -1 until the first ANALYZE.
        name: (dict(zip(words, shares, strict=False)) if words else {}, max(tuples or 0.0, 0.0))
        for name, words, shares, tuples in rows
    }
    _word_shares[database] = (now, statistics)
    return statistics


def _share(words: list[str], index: str) -> float:
    """The share of the index's rows holding every word, as its statistics estimate it (words
    missing from its most common ones count as rare)."""
    shares = _word_statistics().get(index, ({}, 0.0))[0]
    if not shares:
        return 0.0
    result = 1.0
    for word in words:
        result *= shares.get(word, 0.0)
    return result


def _message_share(words: list[str]) -> float:
    """The share of messages holding every word (``_share`` of the messages' index)."""
    return _share(words, _MESSAGES_INDEX)


def _holding(words: list[str], index: str) -> float:
    """How many rows of all workspaces hold every word, as whole words, as the statistics of
    the index estimate it."""
    return _share(words, index) * _word_statistics().get(index, ({}, 0.0))[1]


def _subjects_holding(words: list[str]) -> float:
    return _holding(words, _SUBJECTS_INDEX)


def _messages_holding(words: list[str]) -> float:
    return _holding(words, _MESSAGES_INDEX)


def _matching(rows, column):
    """The rows of ``rows()`` whose text vector (``column()``) matches the words' ``text``.
    Both are functions, called when a statement is first compiled, not on every search."""

    def matches(text):
        return _unranked(rows().filter(_PgMatches(column(), _PgQuery(Value(text)))))

    return matches


def _word_start_patterns(words: list[str]) -> dict[str, str]:
    # Words are \w+ only: nothing in them is special to a regular expression. "(^|\W)" rather
    # than "\m": under a "C" ctype PostgreSQL's regular expressions take no letter beyond ASCII
    # for a word character, and "\m" would never match before "été".
    return {f"word{n}": rf"(^|\W){word}" for n, word in enumerate(words)}


def _any_word_start(words: list[str]) -> str:
    """The start of any of ``words`` (as ``_word_start_patterns``), for the database."""
    return rf"(^|\W)({'|'.join(words)})"


def _word_starts(bodies):
    """A common word's messages (of ``bodies()``): those with every word at the start of one of theirs
    (case-insensitive), as the highlighting marks them. Checking a body this way costs about
    1.5 us; building its text vector for ``@@``, about 25 us (bodies of 440 characters), the
    whole of the statement's time when the newest messages are read one by one."""

    def matches(**patterns):
        rows = bodies()
        for _name, pattern in sorted(patterns.items()):
            rows = rows.filter(body__iregex=pattern)
        return _unranked(rows)

    return matches


def _word_starts_query(words: list[str]) -> str:
    """The ``tsquery`` text of every word, each as the start of a word: "refund:* & dup:*"."""
    # Words are \w+ only, so none of tsquery's operators can slip in.
    return " & ".join(f"{word}:*" for word in words)


class _Postgres:
    def __init__(self, staff: bool, shape=None, best_first: bool = False):
        self.staff, self.shape, self.best_first = staff, shape, best_first

    def reads_in_order(self, words) -> bool:
        """Whether the ordered word index serves these words' subject matches."""
        return self.staff and self.shape is not None and subject_words.driving_word(words) is not None

    def newest_subjects(self, tickets, words, workspace_id: int, limit: int) -> list[int] | None:
        """Ids of the newest ``limit`` of ``tickets`` whose subject holds every word (as the
        start of one), newest first, from the ordered word index, for words it
        ``reads_in_order``; None when it cannot say (a word that starts too many words)."""
        text = _word_starts_query(words)
        check = compiled_queries.statement_of(
            (*self.shape, "subject words check"),
            lambda text: (
                tickets.order_by()
                .filter(_PgMatches(_PgVector(F("subject")), _PgQuery(Value(text))))
                .filter(id=subject_words.WordsTicket())
                .values_list("id")
            ),
            {"text": text},
        )
        if check is None:  # the tickets cannot be compiled into a statement (none can match)
            return None
        word = subject_words.driving_word(words)
        return subject_words.newest(check, workspace_id=workspace_id, word=word, limit=limit)

    def matches(self, tickets, messages, words, subjects=None):
        text = _word_starts_query(words)
        vector = _PgVector if self.staff else _PgVectorOfOwnRows
        common = self.staff and _message_share(words) >= COMMON_SHARE
        # Where the statistics say the whole words alone are in twice as many rows as a part
        # collects, that part is matched on them first: the search stops at its cap whichever
        # it takes, and finding the words' starts costs the index a pass over every word so
        # starting (33,000 subjects at 1M tickets: 15 ms, against 4.5 ms for the word
        # itself). Starts only if the whole words collect fewer.
        whole, starts = {"text": " & ".join(words)}, {"text": text}
        # Rows of all workspaces holding the whole words, as the statistics say (staff only).
        in_subjects = _subjects_holding(words) if self.staff else 0.0
        in_messages = _messages_holding(words) if self.staff else 0.0
        subject_words = message_words = None
        if in_subjects >= EXACT_FIRST * SEARCH_CAP:
            subject_words = [whole, starts]
        if common:
            message_words = [_word_start_patterns(words)]
        elif in_messages >= EXACT_FIRST * MESSAGE_CANDIDATES:
            message_words = [whole, starts]
        settings = {}
        if self.staff:
            # A word in half of a million messages would have the index hand over every one
            # of them before the LIMIT applies; past GIN_SAMPLE entries it hands a sample.
            settings["gin_fuzzy_search_limit"] = GIN_SAMPLE
        if self.staff and not common:
            # A rare word: only the full-text indexes find it quickly. With a million tickets
            # the planner guessed a prefix matched 2% of the messages and, for the LIMIT, chose
            # to read them all in turn (or all of the workspace's by its index) hoping to stop
            # early: over a minute for a word no message held. Bitmap scans of the indexes are
            # left, and GIN_SAMPLE bounds them.
            settings.update(enable_seqscan="off", enable_indexscan="off")
        if common:
            settings.update(COMMON_WORD_SETTINGS)
        # Made only when a statement is compiled: with a shape, each is compiled once, and
        # building the querysets on every search was 0.3 ms of it.
        searchable = functools.cache(lambda: _searchable(tickets, messages))
        # Planned for the query's own words every time (compiled_queries.custom_plans): the
        # generic plan of a prepared statement cannot know how rare a word is, and for a rare
        # one at 1M tickets it read 180 ms where the plan for the word reads 1.2 ms.
        # A shape's statements are each sent with the settings (compiled_queries.with_settings).
        with compiled_queries.with_settings(settings, one_message=self.shape is not None), custom_plans():
            found = _ranked(
                tickets,
                # Both parts ranked by recency (newest ticket first) within their tier: ts_rank
                # rebuilds each match's vector from its text. Of a message body, that was the
                # costliest part of a search; of the subjects, 40% of their statement at 1M
                # tickets (11 -> 6.5 ms for a word in 5,000 subjects), to order subjects that
                # nearly all hold the word once and so tied anyway.
                _matching(lambda: searchable()[0], lambda: vector(F("subject"))),
                (
                    _word_starts(lambda: searchable()[1])
                    if common
                    else _matching(lambda: searchable()[1], lambda: vector(F("body")))
                ),
                words={"text": text},
                subject_words=subject_words,
                message_words=message_words,
                staff=self.staff,
                newest_first=common,
                shape=None if self.shape is None else (*self.shape, "postgresql", self.staff),
                best_first=self.best_first,
                subjects=subjects,
            )
        # Past GIN_SAMPLE entries the index hands staff a sample: a searcher who sees few of the
        # workspace's queues may then collect fewer matches than they may see, without reaching
        # the cap. The count is then only a lower bound ("at least"), and a page's excerpts are
        # looked for in its own tickets' messages (``page_bodies``). The statistics know whole
        # words only: a prefix may be sampled unseen.
        if in_subjects > GIN_SAMPLE and subjects is None:
            found.capped = True
        if not common and in_messages > GIN_SAMPLE:
            found.capped, found.messages_complete = True, False
        # Read by the index and stopped at a cap, the messages may leave newer ones out.
        found.messages_in_order = common or found.messages_complete or not found.parts[1]
        return found

    def close_spellings(self, tickets, messages, words):
        words = [w for w in words if len(w) >= MIN_FUZZY_LENGTH]
        if not words:
            return None

        # "<%" (word similarity above pg_trgm.word_similarity_threshold) is served by the
        # trigram indexes on UPPER(column::text) (migration 0005).
        def similar(queryset, column):
            for word in words:
                queryset = queryset.filter(_PgSimilarTo(Upper(Value(word)), _text(column)))
            rank = sum(
                (_PgWordSimilarity(Upper(Value(w)), _text(column)) for w in words[1:]),
                _PgWordSimilarity(Upper(Value(words[0])), _text(column)),
            )
            return queryset.annotate(rank=rank)

        subjects, bodies = _searchable(tickets, messages)
        threshold = {"pg_trgm.word_similarity_threshold": FUZZY_THRESHOLD}
        with compiled_queries.with_settings(threshold, one_message=False), custom_plans():
            # Not kept compiled: the words are in the statements' SQL.
            found = _ranked(
                tickets,
                lambda: similar(subjects, "subject"),
                lambda: similar(bodies, "body"),
                words={},
                staff=self.staff,
                best_first=self.best_first,
            )
        # The matched spellings are not known here; highlight nothing rather than the wrong thing.
        return found, []


# SQLite ---------------------------------------------------------------------------------------

_TICKET_FTS = "tickets_ticket_fts"
_MESSAGE_FTS = "tickets_message_fts"


class _Sqlite:
    def __init__(self, staff: bool, shape=None, best_first: bool = False):
        self.staff, self.shape, self.best_first = staff, shape, best_first

    def matches(self, tickets, messages, words, subjects=None):
        return self._run(tickets, messages, " ".join(f'"{word}"*' for word in words))

    def _run(self, tickets, messages, match):
        subjects, bodies = _searchable(tickets, messages)
        return _ranked(
            tickets,
            # Subjects newest first, as on PostgreSQL; messages by bm25.
            lambda text: _unranked(subjects.filter(_SqliteFts(_TICKET_FTS, F("id"), text, rank=False))),
            lambda text: bodies.filter(_SqliteFts(_MESSAGE_FTS, F("id"), text, rank=False)).annotate(
                rank=_SqliteFts(_MESSAGE_FTS, F("id"), text, rank=True)
            ),
            words={"text": match},
            staff=self.staff,
            shape=None if self.shape is None else (*self.shape, "sqlite", self.staff),
            best_first=self.best_first,
        )

    def close_spellings(self, tickets, messages, words):
        corrected = [self._closest(word) if len(word) >= MIN_FUZZY_LENGTH else word for word in words]
        if corrected == words or None in corrected:
            return None
        return self._run(tickets, messages, " ".join(f'"{word}"' for word in corrected)), corrected

    def _closest(self, word: str) -> str | None:
        # Terms of the same first letter and about the same length, from both indexes' vocabulary.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT term FROM tickets_ticket_fts_vocab WHERE term >= %s AND term < %s"
                " AND length(term) BETWEEN %s AND %s"
                " UNION SELECT term FROM tickets_message_fts_vocab WHERE term >= %s AND term < %s"
                " AND length(term) BETWEEN %s AND %s",
                [word[0], chr(ord(word[0]) + 1), len(word) - 2, len(word) + 2] * 2,
            )
            terms = [row[0] for row in cursor.fetchall()]
        if word in terms:
            return word
        close = difflib.get_close_matches(word, terms, n=1, cutoff=0.75)
        return close[0] if close else None
