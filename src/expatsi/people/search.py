"""Prefix search on people that an index answers at a million rows (issue 13: the pickers).

``icontains`` reads every row. A prefix can walk a b-tree instead, if the database sees it in a
form its index understands, and the two databases expatsi runs on see it differently:

* PostgreSQL uses an index for ``LIKE 'ABC%'`` only with a ``*_pattern_ops`` operator class (the
  database's collation is not C): ``UPPER(family_name) LIKE UPPER('abc%')`` — what Django's
  ``istartswith`` writes — is answered by an index on ``UPPER(family_name) text_pattern_ops``.
* SQLite uses an index for ``LIKE`` only on a plain column with a NOCASE collation, and never on an
  expression; it does use an index on ``UPPER(family_name)`` for a range ``>= 'ABC' AND <
  'ABC\\U0010FFFF'`` (its strings compare as bytes: everything that starts with ``ABC`` lies there).
  SQLite's ``UPPER`` folds only ASCII letters, so the query is folded the same way (and its other
  letters tried in both cases).

The indexes are created per database by ``people/migrations/0006_picker_search.py``; the
expressions here must stay the ones indexed there.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.db.models.lookups import GreaterThanOrEqual, LessThan

from expatsi.access.crypto import search_hashes
from expatsi.people.models import Document, Passport

# Names are searched from this many characters; one is enough in a script without spaces between
# letters and words (王, 李: a one-character family name is common).
MIN_LATIN = 2
MIN_OTHER = 1
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOP = "\U0010ffff"
# At most this many people found through a document number's prefix (a picker shows 20).
CAP_IDS = 200


def normalise(text: str) -> str:
    """The query as typed, trimmed, with runs of spaces (also ideographic ones) as one space."""
    return re.sub(r"\s+", " ", text or "").strip()


def long_enough(text: str) -> bool:
    q = normalise(text)
    return len(q) >= (MIN_LATIN if q.isascii() else MIN_OTHER)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _range(expression: F | Upper, prefix: str) -> Q:
    return Q(GreaterThanOrEqual(expression, prefix)) & Q(LessThan(expression, prefix + _TOP))


def name_prefix(field: str, text: str) -> Q:
    """``field`` (a name column, case ignored) starts with ``text``."""
    if _postgres():
        return Q(**{f"{field}__istartswith": text})
    # SQLite leaves letters beyond ASCII as stored: "Müller" is "MüLLER" to it. The query's own
    # letters beyond ASCII are tried as typed, in small and in capital letters.
    variants = {v.translate(_ASCII_UPPER) for v in (text, text.lower(), text.upper())}
    return reduce(or_, (_range(Upper(field), v) for v in sorted(variants)))


def exact_prefix(field: str, text: str) -> Q:
    """``field`` (an identifier stored in capitals: SSN, document number) starts with ``text``."""
    if _postgres():
        return Q(**{f"{field}__startswith": text})
    return _range(F(field), text)


def person_match(text: str) -> Q:
    """People whose family name, given names or Chinese name starts with the query, or "FAMILY
    Given" / "Given FAMILY" the two words' starts, or whose social security number or a document
    number (a residence permit's, say) starts with it, or who hold (or held) a passport with
    exactly that number (passport numbers are encrypted: only the whole number is found)."""
    q = normalise(text)
    if not long_enough(q):
        return Q(pk__in=[])
    match = name_prefix("family_name", q) | name_prefix("given_names", q)
    match |= name_prefix("chinese_name", q)
    words = q.split(" ")
    if len(words) >= 2:
        first, rest = words[0], " ".join(words[1:])
        last, before = words[-1], " ".join(words[:-1])
        match |= name_prefix("family_name", first) & name_prefix("given_names", rest)
        match |= name_prefix("given_names", before) & name_prefix("family_name", last)
    token = q.replace(" ", "").upper()
    if token.isascii() and len(token) >= MIN_LATIN:
        match |= exact_prefix("ssn", token)
        # Looked up first, each on its own index, so that the people's query stays a union of
        # index ranges (a sub-select inside OR would make PostgreSQL read every person).
        ids = set(
            Document.objects.filter(exact_prefix("number", token)).values_list(
                "person_id", flat=True
            )[:CAP_IDS]
        )
        ids.update(
            Passport.objects.filter(number_hash__in=search_hashes(token)).values_list(
                "person_id", flat=True
            )
        )
        if ids:
            match |= Q(pk__in=sorted(ids))
    return match
