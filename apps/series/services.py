"""Series assembly: which series a patch or cover letter joins, numbering, completion events.

Lists deliver out of order and several workers ingest at once (each holding its
project's lock), so placement must give the same series whatever the arrival
order. Evidence, strongest first:

1. mail already in a series answered this one (they wait for its Message-ID);
2. this mail answers a member of a series (its References / In-Reply-To);
3. this mail answers the same, not yet known, message as a series' members
   (siblings under a cover letter that has not arrived);
4. for unthreaded mail only: an unthreaded series with the same submitter, version
   and total, sent within minutes.

Thread membership outranks version markers, as in Patchwork: a numbered mail
joins the series its references lead to whatever its version, unless that series
already holds a patch with its number (or a cover letter, for a cover letter):
then that series is not its own (weaker evidence above may still place it, else
it starts a series of its own, as a reroll sent in reply does). So
"[PATCH 1/4]" answering "[PATCH net-next v3 0/4]" is part of v3. For the result
not to depend on arrival order, the version still tells a reroll from a part:
a mail whose version differs from the series it answers joins it only when the
answer carries no version of its own (the child of a v3 cover letter without a
"v" marker is v3; a "v2" answering a v1 mail is a reroll), the same test seen
from the other side when the answering mail came first (1.), and siblings (3.)
must agree on the version. The total must agree in every case. A series takes
the highest version among its mails.

Series name, date and submitter follow the cover letter, else the
lowest-numbered patch, so they do not depend on arrival order either.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef

from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import Cover, CoverComment, Patch
from apps.projects.models import Person, Project
from apps.series.models import AwaitedMessage, Series, SeriesReference
from apps.series.queue import range_diff_on_commit
from apps.series.references import references_add, references_flush
from apps.series.revisions import revision_identity
from apps.series.sql import candidate_rows, fast_path, unthreaded_candidate_rows

# Unthreaded series: parts sent this close together by one person belong together
# (git send-email and hg email send a whole series within seconds).
MARKER_WINDOW = dt.timedelta(minutes=30)
# Thread references kept per mail: the root and the nearest ones are what matter.
MAX_THREAD_REFS = 20


@dataclass
class Placement:
    """Where a patch or cover letter goes, and whether its series is new.

    before: the series' revision identity before this mail (None if new), and
    has_later: whether a later revision already names it (see revisions.py).
    """

    series: Series
    created: bool
    before: tuple | None = None
    has_later: bool = False
    # The thread rows registering the mail wrote (a batch keeps its lookups in step).
    registered: list[SeriesReference | AwaitedMessage] = field(default_factory=list)


def _thread_refs(refs: list[str]) -> list[str]:
    if len(refs) <= MAX_THREAD_REFS:
        return refs
    return [refs[0], *refs[-(MAX_THREAD_REFS - 1) :]]


@dataclass
class Thread:
    """What is known of a mail's Message-ID and references when it arrives (ingestion looks
    it up in one query: apps/mail/arrival.py)."""

    # AwaitedMessage rows for them: replies, series and dependents waiting for one.
    awaited: list[AwaitedMessage]
    # Which of them are members of a series (Message-ID -> series id).
    members: dict[str, int]
    # Which of the references arrived in the project (stored mail), whatever they became.
    arrived: set[str]


def series_place(
    *,
    project: Project,
    msgid: str,
    refs: list[str],
    submitter: Person,
    date: dt.datetime,
    version: int,
    number: int | None,
    total: int | None,
    name: str,
    is_cover: bool = False,
    thread: Thread,
) -> Placement:
    """Find or create the series of a patch (number >= 1, None if unnumbered) or cover (0)."""
    if number is None or total is None:
        # Unnumbered mail is a series of its own, whatever it replies to.
        return Placement(_series_create(project, submitter, date, version, 1, name), True)
    refs = _thread_refs(refs)
    members = thread.members
    awaited = thread.awaited
    depths: dict[tuple[str, int], int] = {}
    for row in awaited:
        if row.kind == AwaitedMessage.THREAD and row.series_id is not None:
            key = (row.msgid, row.series_id)
            depths[key] = min(depths.get(key, row.position), row.position)
    waiting: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (ref, sid), depth in sorted(depths.items(), key=lambda item: (item[1], item[0][1])):
        waiting[ref].append((depth, sid))

    # (series id, how it is related to this mail): strongest evidence first.
    candidates: list[tuple[int, str]] = [(sid, ANSWERED) for _, sid in waiting.get(msgid, [])]
    for ref in reversed(refs):
        if ref in members:
            candidates.append((members[ref], ANSWERS))
        candidates += [(sid, SIBLING) for _, sid in waiting.get(ref, [])]

    series = _first_fitting(
        project, candidates, submitter, version, number, total, is_cover=is_cover
    )
    if series is None and not refs:
        series = _by_markers(project, submitter, date, version, number, total, is_cover=is_cover)
    if series is not None:
        series.project = project
        placement = Placement(series, False, revision_identity(series), series.has_later)
        if version > series.version:
            # Unversioned parts of a v3 thread, joined by its cover letter (or a v3 part).
            series.version = version
            series.save(update_fields=["version"])
        return placement
    return Placement(_series_create(project, submitter, date, version, total, name), True)


def _series_create(
    project: Project, submitter: Person, date: dt.datetime, version: int, total: int, name: str
) -> Series:
    series = Series.objects.create(
        project=project,
        submitter=submitter,
        date=date,
        version=version,
        total=total,
        name=name[:255],
    )
    event_record(category=Event.SERIES_CREATED, project=project, series=series)
    return series


def _load_candidates(qs) -> list[Series]:
    """The series of qs, each with `numbers` (its patches' number -> id), `has_later` (a
    later revision already names it) and `cover_replies` (its cover letter has replies,
    whose trailers count for its patches), in one query."""
    names = [f.attname for f in Series._meta.concrete_fields]
    rows = qs.annotate(
        has_later=Exists(Series.objects.filter(previous_revision=OuterRef("pk"))),
        cover_replies=Exists(CoverComment.objects.filter(cover_id=OuterRef("cover_id"))),
        patch_number=F("patches__number"),
        patch_id=F("patches__id"),
    ).values_list(*names, "has_later", "cover_replies", "patch_number", "patch_id")
    return _candidates(
        (Series.from_db(qs.db, names, row[: len(names)]), *row[len(names) :]) for row in rows
    )


def _candidates(rows) -> list[Series]:
    """(series, has_later, cover_replies, patch number, patch id) rows, one series each."""
    found: dict[int, Series] = {}
    for row, has_later, cover_replies, patch_number, patch_id in rows:
        series = found.get(row.pk)
        if series is None:
            series = row
            series.has_later, series.cover_replies, series.numbers = has_later, cover_replies, {}
            found[series.pk] = series
        if patch_id is not None:
            series.numbers[patch_number] = patch_id
    return list(found.values())


def candidates_by_id(project: Project, ids: set[int], *, fast: bool | None = None) -> list[Series]:
    """_load_candidates of the project's series with these ids (by hand-written SQL on
    PostgreSQL: apps/series/sql.py)."""
    if fast_path() if fast is None else fast:
        return _candidates(candidate_rows(project.pk, sorted(ids)))
    return _load_candidates(Series.objects.filter(project=project, pk__in=ids))


# How a candidate series is related to the mail being placed (see the module docstring).
ANSWERED = "answered"  # a mail of the series answers this one
ANSWERS = "answers"  # this mail answers a mail of the series
SIBLING = "sibling"  # both answer the same mail, not arrived yet
MARKERS = "markers"  # unthreaded: same submitter, version and total, close in time
# Without a "vN" marker a mail is version 1: in a thread it takes its parent's version.
UNVERSIONED = 1


def _versions_fit(series_version: int, version: int, relation: str) -> bool:
    if relation == ANSWERS:
        return version in (series_version, UNVERSIONED)
    if relation == ANSWERED:
        return series_version in (version, UNVERSIONED)
    return series_version == version


def _fits(
    series: Series, version: int, number: int, total: int, is_cover: bool, relation: str
) -> bool:
    if series.total != total or not _versions_fit(series.version, version, relation):
        return False
    return series.cover_id is None if is_cover else number not in series.numbers


def _first_fitting(
    project: Project,
    candidates: list[tuple[int, str]],
    submitter: Person,
    version: int,
    number: int,
    total: int,
    *,
    is_cover: bool,
) -> Series | None:
    if not candidates:
        return None
    ids = {sid for sid, _ in candidates}
    found = {s.pk: s for s in candidates_by_id(project, ids)}
    for sid, relation in candidates:
        series = found.get(sid)
        if series is None or not _fits(series, version, number, total, is_cover, relation):
            continue
        if relation == SIBLING and series.submitter_id != submitter.pk:
            continue
        return series
    return None


def _by_markers(
    project: Project,
    submitter: Person,
    date: dt.datetime,
    version: int,
    number: int,
    total: int,
    *,
    is_cover: bool,
    fast: bool | None = None,
) -> Series | None:
    """The unthreaded series this unthreaded mail belongs to, by its markers (fast: by
    hand-written SQL, apps/series/sql.py, the default on PostgreSQL)."""
    if total <= 1:
        return None
    # Only series none of whose mails is threaded: a thread's root (a cover letter, the
    # first patch) has no references either, and must not pull in strangers.
    references_flush()
    start, end = date - MARKER_WINDOW, date + MARKER_WINDOW
    if fast_path() if fast is None else fast:
        found = _candidates(
            unthreaded_candidate_rows(project.pk, submitter.pk, version, total, start, end)
        )
    else:
        threaded = AwaitedMessage.objects.filter(kind=AwaitedMessage.THREAD, series=OuterRef("pk"))
        found = _load_candidates(
            Series.objects.filter(
                ~Exists(threaded),
                project=project,
                submitter=submitter,
                version=version,
                total=total,
                date__range=(start, end),
            )
        )
    fitting = [s for s in found if _fits(s, version, number, total, is_cover, MARKERS)]
    if not fitting:
        return None
    return min(fitting, key=lambda s: (abs((s.date - date).total_seconds()), s.pk))


def _register(placement: Placement, project: Project, msgid: str, refs: list[str]) -> None:
    """Remember this mail's Message-ID as a member, and what it is threaded to.

    Every reference is kept, even to members: a series with thread rows is threaded.
    """
    series = placement.series
    member = SeriesReference(project=project, series=series, msgid=msgid)
    awaited = [
        AwaitedMessage(
            project=project,
            msgid=ref,
            kind=AwaitedMessage.THREAD,
            series=series,
            position=depth,
        )
        for depth, ref in enumerate(reversed(_thread_refs(refs)))
    ]
    references_add([member, *awaited])
    placement.registered = [member, *awaited]


def series_cover_added(
    *, placement: Placement, cover: Cover, refs: list[str], title: str, total: int
) -> None:
    """Make cover the series' cover letter: it names and dates the series."""
    series = placement.series
    _register(placement, cover.project, cover.msgid, refs)
    series.cover = cover
    series.name = title[:255]
    series.submitter = cover.submitter
    series.date = min(series.date, cover.date)
    series.total = total
    series.save(update_fields=["cover", "name", "submitter", "date", "total"])


def series_patch_added(*, placement: Placement, patch: Patch, refs: list[str], title: str) -> None:
    """Add patch to its series; record patch-completed / series-completed as they become true."""
    series = placement.series
    project = patch.project
    _register(placement, project, patch.msgid, refs)
    # The series' other patches, by number (loaded with the series when it was placed).
    others: dict[int | None, int] = {} if placement.created else series.numbers
    changed = []
    if patch.date < series.date:
        series.date = patch.date
        changed.append("date")
    lowest = min((n for n in others if n is not None), default=None)
    first = lowest is None or (patch.number or 0) < lowest
    if not series.cover_id and first and not placement.created:
        # Without a cover letter the series is named after (and by) its first patch.
        series.name = title[:255]
        series.submitter = patch.submitter
        changed += ["name", "submitter"]
    if changed:
        series.save(update_fields=changed)

    before = set(others)
    after = before | {patch.number}
    done_before, done_after = _complete_prefix(before), _complete_prefix(after)
    completed: list[int | None] = []
    completed += sorted(n for n in after if n is not None and done_before < n <= done_after)
    if (patch.number or 0) < 1:
        completed.append(patch.number)
    for number in completed:
        ref = {"patch": patch} if number == patch.number else {"patch_id": others[number]}
        event_record(category=Event.PATCH_COMPLETED, project=project, series=series, **ref)
    if done_before < series.total <= done_after:
        event_record(category=Event.SERIES_COMPLETED, project=project, series=series)
        if series.previous_revision_id:
            # What changed since the previous revision, computed once in a worker.
            range_diff_on_commit(series.pk)


def _complete_prefix(numbers: set[int | None]) -> int:
    """The largest k such that patches 1..k are all present."""
    k = 0
    while k + 1 in numbers:
        k += 1
    return k
