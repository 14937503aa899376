"""One query language for the patch list, the series list and the REST ``q`` parameter.

Free words (or "quoted phrases") must each match the patch's name, its commit
message, its submitter or a path its diff touches. Operators refine::

    state:new,under-review   from:ada@example.org   delegate:alice|none
    series:42   path:src/frob.c   is:archived   is:action-required
    has:failed-checks   since:2024-03-01   before:2024-04-01

A leading ``-`` negates a term (``-is:archived``, ``-state:accepted``).
On PostgreSQL words use full-text search over the patch's stored search document
(``SEARCH_DOCUMENT``, a generated column with its GIN index: migration 0008),
together with the name's trigram index; elsewhere a substring match. A query that cannot be
understood raises SearchError saying what is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from apps.accounts.models import User
from apps.patches.models import Patch
from apps.patches.selectors import ids_in
from apps.projects.models import Person, State
from apps.projects.params import is_id, parse_id

MAX_TERMS = 12
# People a free word may name; a word matching more is not a useful name anyway.
MAX_PEOPLE = 500
# A word matching at most this many patches is resolved to their ids first (_word_q).
IDS_FIRST = 10_000
OPERATORS = ("state", "from", "delegate", "series", "path", "is", "has", "since", "before")
IS_VALUES = ("archived", "action-required")
# has:VALUE -> its condition on patches. Apps above patches that hold the data register
# theirs in AppConfig.ready() (apps.checks: has:failed-checks).
_HAS: dict[str, Callable[[], Q]] = {}
# The text full-text search indexes: name, commit message and the diff's paths (one per
# 'diff --git' line, split at '/' so a directory or a file name matches on its own).
# PostgreSQL computes it into the patch's stored column `search_document` when the patch
# is written (migration 0008, which holds the same expression), and indexes that column:
# a search never computes it again. The diff's part is `search_paths`, which the model
# fills (apps/patches/document.py); the regexp runs only for a row that lacks it.
SEARCH_DOCUMENT = (
    "to_tsvector('simple'::regconfig, COALESCE({name}, '') || ' ' || COALESCE({content}, '') "
    "|| ' ' || COALESCE({search_paths}, translate(regexp_replace(COALESCE({diff}, ''), "
    "'^(?!diff --git ).*$', '', 'gn'), '/', ' ')))"
)
SEARCH_COLUMN = "search_document"


class FullTextMatch(Func):
    """The patch's stored search document matches a word (PostgreSQL); the column is
    qualified like any other (the table's alias in this query)."""

    output_field = BooleanField()

    def __init__(self, word: str):
        super().__init__(F("id"), Value(word))

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        pk, word = parts
        # '"alias"."id"' -> '"alias"."search_document"': the model does not declare the
        # column (no query but this one reads it), so it is named next to the id.
        column = pk[: -len(connection.ops.quote_name("id"))] + connection.ops.quote_name(
            SEARCH_COLUMN
        )
        return f"{column} @@ plainto_tsquery('simple'::regconfig, {word})", params


class SearchError(ValueError):
    """A query that cannot be understood; the message says why."""


@dataclass
class Term:
    key: str  # '' for a free word
    value: str
    negated: bool = False


TOKEN_RE = re.compile(r'(-?)(?:([A-Za-z]+):)?(?:"([^"]*)"|(\S+))')


def parse_query(query: str) -> list[Term]:
    """Split a query into terms; SearchError for unbalanced quotes or unknown operators."""
    query = query.replace("\x00", "")
    if query.count('"') % 2:
        raise SearchError("Unbalanced quotes in the search.")
    terms = []
    for match in TOKEN_RE.finditer(query):
        minus, key, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        if key is None and quoted is None and re.fullmatch(r"[A-Za-z]+:", bare):
            key, value = bare[:-1], ""  # an operator without its value
        if key is None:
            if value.strip():
                terms.append(Term("", value.strip(), bool(minus)))
            continue
        key = key.lower()
        if key not in OPERATORS:
            raise SearchError(
                f"Unknown search operator '{key}:'; use one of "
                + ", ".join(f"{o}:" for o in OPERATORS)
                + f' (or quote the word: "{match.group(0).lstrip("-")}").'
            )
        if not value.strip():
            raise SearchError(f"'{key}:' needs a value.")
        terms.append(Term(key, value.strip(), bool(minus)))
    if len(terms) > MAX_TERMS:
        raise SearchError(f"Too many search terms ({len(terms)}); at most {MAX_TERMS}.")
    return terms


def _date(key: str, value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SearchError(f"'{key}:{value}' is not a date; write it as YYYY-MM-DD.") from None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def _word_q(word: str) -> Q:
    # Resolved to ids first: an IN list of ids keeps every branch of the OR on an index.
    people = Person.objects.filter(Q(name__icontains=word) | Q(email__icontains=word))
    ids = list(people.values_list("id", flat=True)[:MAX_PEOPLE])
    match = Q(name__icontains=word) | Q(submitter_id__in=ids)
    if connection.vendor != "postgresql":
        return match | Q(content__icontains=word) | Q(diff__icontains="/" + word.lstrip("/"))
    # The matching ids are collected first, each kind of match through its own index
    # (a union: no row rechecks the other kinds, and none computes the search document
    # again), when they are not too many. Otherwise the planner may walk a big list in
    # id order computing the document of every patch it passes: seconds at 200,000
    # patches, unless the word is so common that a page of matches comes quickly.
    pks = Patch.objects.order_by().values_list("pk", flat=True)
    found = pks.filter(name__icontains=word).union(
        pks.filter(FullTextMatch(word)), pks.filter(submitter_id__in=ids)
    )
    matching = list(found[: IDS_FIRST + 1])
    if len(matching) <= IDS_FIRST:
        return Q(ids_in("id", matching))  # one array parameter, not 2,000 placeholders
    # A common word: the same union as a subquery (the planner hashes it once), never the
    # kinds of match ORed into the list's scan.
    return Q(pk__in=found)


def _state_q(value: str) -> Q:
    states = list(State.objects.all())
    by_key = {s.slug: s for s in states} | {s.name.lower(): s for s in states}
    ids = []
    for name in value.split(","):
        state = by_key.get(name.strip().lower())
        if state is None:
            known = ", ".join(s.slug for s in states)
            raise SearchError(f"Unknown state '{name}'; known states: {known}.")
        ids.append(state.pk)
    return Q(state_id__in=ids)


def _delegate_users(value: str) -> QuerySet[User]:
    return User.objects.filter(Q(username__iexact=value) | Q(email__iexact=value))


def _delegate_q(value: str) -> Q:
    if value.lower() == "none":
        return Q(delegate__isnull=True)
    return Q(delegate__in=_delegate_users(value).values("id"))


def _from_people(value: str) -> QuerySet[Person]:
    if "@" in value:
        return Person.objects.filter(email__iexact=value.strip("<>"))
    return Person.objects.filter(Q(name__icontains=value) | Q(email__icontains=value))


def _from_q(value: str) -> Q:
    return Q(submitter__in=_from_people(value).values("id"))


def search_nobody_notes(query: str) -> list[str]:
    """For each delegate: or from: term of a query that names nobody, a note saying so
    (the list is then empty because of a name, not because nothing matched)."""
    try:
        terms = parse_query(query) if query.strip() else []
    except SearchError:
        return []  # the search itself says what is wrong
    notes = []
    for term in terms:
        if term.negated:
            continue
        if term.key == "delegate" and term.value.lower() != "none":
            if not _delegate_users(term.value).exists():
                notes.append(f"No user matches the delegate '{term.value}'.")
        elif term.key == "from":
            if not _from_people(term.value).exists():
                notes.append(f"No submitter matches '{term.value}'.")
    return notes


def search_has_register(value: str, condition: Callable[[], Q]) -> None:
    """Make has:VALUE mean condition() in every search (call it from AppConfig.ready())."""
    _HAS[value] = condition


def term_q(term: Term) -> Q:
    """The condition one term puts on patches."""
    key, value = term.key, term.value
    if key == "":
        return _word_q(value)
    if key == "state":
        return _state_q(value)
    if key == "from":
        return _from_q(value)
    if key == "delegate":
        return _delegate_q(value)
    if key == "series":
        if not is_id(value):
            raise SearchError(f"'series:{value}' needs a series number.")
        return Q(series_id=parse_id(value))
    if key == "path":
        path = value.lstrip("/")
        return Q(diff__contains=f" a/{path}") | Q(diff__contains=f" b/{path}")
    if key == "is":
        if value.lower() not in IS_VALUES:
            raise SearchError(f"'is:{value}' is unknown; use is:archived or is:action-required.")
        if value.lower() == "archived":
            return Q(archived=True)
        return Q(state__action_required=True)
    if key == "has":
        condition = _HAS.get(value.lower())
        if condition is None:
            known = " or ".join(f"has:{name}" for name in _HAS)
            raise SearchError(f"'has:{value}' is unknown; use {known}.")
        return condition()
    if key == "since":
        return Q(date__gte=_date(key, value))
    if key == "before":
        return Q(date__lt=_date(key, value))
    raise SearchError(f"Unknown search operator '{key}:'.")  # parse_query keeps this unreachable


def patch_search(qs: QuerySet[Patch], query: str) -> QuerySet[Patch]:
    """Narrow patches by a search query; SearchError if the query is not understood."""
    for term in parse_query(query):
        condition = term_q(term)
        qs = qs.exclude(condition) if term.negated else qs.filter(condition)
    return qs


def series_search_q(query: str) -> Q:
    """A condition on series: those having at least one patch the query matches.

    A query of plain words also matches a series whose own name (its cover
    letter's) contains every word, as the REST ``q`` always did.
    """
    terms = parse_query(query)
    patches = Patch.objects.all()
    for term in terms:
        condition = term_q(term)
        patches = patches.exclude(condition) if term.negated else patches.filter(condition)
    match = Q(Exists(patches.filter(series=OuterRef("pk"))))
    if terms and all(not t.key and not t.negated for t in terms):
        named = Q()
        for term in terms:
            named &= Q(name__icontains=term.value)
        match |= named
    return match
