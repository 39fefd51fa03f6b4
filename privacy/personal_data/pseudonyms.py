"""Stable pseudonyms, masked identifiers and mention scrubbing.

A pseudonym stands for one person for ever: "Deleted user 7f3a". Its code starts as the first
four hex digits of sha256("user:<id>") (the audit log derives the same label from an actor id,
privacy/audit/selectors.py ``actor_display``) and grows (6, 8 ... digits) only when another person
already holds it, so two erased people never share one ghost. Account erasure and retention
(issue 7) both call ``pseudonym_for``.
"""

import re
from hashlib import sha256

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from privacy.personal_data.models import Pseudonym

CODE_LENGTHS = (4, 6, 8, 12, 16)
MIN_NAME_LENGTH = 3


def preferred_code(user_id: int, length: int = 4) -> str:
    return sha256(f"user:{user_id}".encode()).hexdigest()[:length]


def pseudonym_for(user) -> Pseudonym:
    """The person's pseudonym, created on first use. Safe under concurrent callers."""
    existing = Pseudonym.objects.filter(user_id=user.pk).first()
    if existing is not None:
        return existing
    for length in CODE_LENGTHS:
        code = preferred_code(user.pk, length)
        if Pseudonym.objects.filter(code=code).exists():
            continue
        try:
            with transaction.atomic():
                return Pseudonym.objects.create(user_id=user.pk, code=code)
        except IntegrityError:
            mine = Pseudonym.objects.filter(user_id=user.pk).first()
            if mine is not None:  # another process created it meanwhile
                return mine
    raise RuntimeError("No free pseudonym code.")  # pragma: no cover - 2**64 codes


def pseudonym_label(user) -> str:
    return pseudonym_for(user).label


def pseudonym_labels(user_ids) -> dict[int, str]:
    """Labels of existing pseudonyms for many people at once (one query), for list pages."""
    return {p.user_id: p.label for p in Pseudonym.objects.filter(user_id__in=list(user_ids))}


def pseudonym_labels_ensure(user_ids) -> dict[int, str]:
    """Labels for many people, creating the missing pseudonyms in bulk (retention anonymizes
    tickets 500 at a time). Same codes as ``pseudonym_for``: each round offers the next code
    length to the people whose shorter code is taken; safe under concurrent callers."""
    wanted = {int(uid) for uid in user_ids if uid is not None}
    labels = pseudonym_labels(wanted)
    missing = wanted - labels.keys()
    for length in CODE_LENGTHS:
        if not missing:
            break
        codes = {uid: preferred_code(uid, length) for uid in sorted(missing)}
        taken = set(Pseudonym.objects.filter(code__in=codes.values()).values_list("code", flat=True))
        fresh, seen = [], set()
        for uid, code in codes.items():
            if code not in taken and code not in seen:
                seen.add(code)
                fresh.append(Pseudonym(user_id=uid, code=code))
        Pseudonym.objects.bulk_create(fresh, ignore_conflicts=True)
        labels.update(pseudonym_labels(missing))
        missing = wanted - labels.keys()
    for uid in missing:  # pragma: no cover - only when every code length collided
        labels[uid] = pseudonym_for(Pseudonym(user_id=uid).user).label
    return labels


def pseudonyms_ensure(user_ids) -> None:
    """Create the missing pseudonyms of many people, reading no label back (retention's
    batches read the codes in their own UPDATE). The same codes as ``pseudonym_labels_ensure``.

    On PostgreSQL one statement per code length that still has people left: an INSERT that
    skips a taken code or a person who has one (ON CONFLICT DO NOTHING) and returns who got
    theirs, instead of reading the taken codes, creating the rows and reading the labels back
    per length (about 200 ms of a 2,000-ticket batch). The rows go in in user order, so of two
    people offered the same code the first gets it, as there."""
    if connection.vendor != "postgresql":
        pseudonym_labels_ensure(user_ids)
        return
    missing = sorted({int(uid) for uid in user_ids if uid is not None})
    table = connection.ops.quote_name(Pseudonym._meta.db_table)
    # bandit B608: the quoted table name only; the ids and codes are parameters.
    sql = (
        f"INSERT INTO {table} (user_id, code, created_at) SELECT u, c, %s"  # noqa: S608  # nosec B608
        " FROM unnest(%s::bigint[], %s::varchar[]) WITH ORDINALITY AS offered(u, c, n) ORDER BY n"
        " ON CONFLICT DO NOTHING RETURNING user_id"
    )
    now = timezone.now()
    for length in CODE_LENGTHS:
        if not missing:
            return
        # Array literals: digits and hex codes only, nothing to quote.
        ids = "{" + ",".join(map(str, missing)) + "}"
        codes = "{" + ",".join(preferred_code(uid, length) for uid in missing) + "}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [now, ids, codes])
            made = {row[0] for row in cursor.fetchall()}
        left = [uid for uid in missing if uid not in made]
        if left:  # a person another worker gave one meanwhile needs no longer code
            have = set(Pseudonym.objects.filter(user_id__in=left).values_list("user_id", flat=True))
            left = [uid for uid in left if uid not in have]
        missing = left
    for uid in missing:  # pragma: no cover - only when every code length collided
        pseudonym_for(Pseudonym(user_id=uid).user)


# Masked identifiers for the proof of erasure ---------------------------------------------------------


def _mask_word(word: str) -> str:
    return word[:1] + "*" * max(len(word) - 1, 0)


def mask_name(name: str) -> str:
    """ "John Doe" -> "J*** D**"."""
    return " ".join(_mask_word(word) for word in (name or "").split())


def mask_email(email: str) -> str:
    """ "john@example.com" -> "j***@e******.com"."""
    local, _, domain = (email or "").partition("@")
    host, dot, tld = domain.rpartition(".")
    if not dot:
        host, tld = domain, ""
    masked_domain = _mask_word(host) + (f".{tld}" if tld else "")
    return f"{_mask_word(local)}@{masked_domain}"


# Mentions ----------------------------------------------------------------------------------------------


def mention_needles(needles) -> list[str]:
    """The needles a mention pattern looks for, longest first: none shorter than three
    characters."""
    cleaned = {n.strip() for n in needles if n and len(n.strip()) >= MIN_NAME_LENGTH}
    return sorted(cleaned, key=len, reverse=True)


def mention_pattern(needles) -> re.Pattern | None:
    """One case-insensitive pattern matching any needle as a whole word (so "Al" never turns
    "Also" into a pseudonym). Needles shorter than three characters are skipped."""
    cleaned = mention_needles(needles)
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(n) for n in cleaned)
    return re.compile(rf"(?<![\w.@-])(?:{alternatives})(?![\w@-])", re.IGNORECASE)


def scrub(text: str, pattern: re.Pattern | None, replacement: str) -> str:
    if not text or pattern is None:
        return text
    return pattern.sub(replacement, text)
