"""Fast paths: a patch page's series box (why, and how it is tested: apps/patches/sql.py),
the REST series list's rows read as light rows, and the series candidates of a placement
(at the end of this module)."""

from __future__ import annotations

from types import SimpleNamespace

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from apps.patches.models import Cover, CoverComment, Patch
from apps.patches.selectors import ids_in
from apps.patches.sql import (
    PROJECT,
    Read,
    fast_path,
    light_rows,
    model_rows,
    read,
    select_list,
    submitter_columns,
    with_projects,
)
from apps.series.models import AwaitedMessage, Series

_SERIES = tuple(f.attname for f in Series._meta.concrete_fields)
_COVER = ("id", "msgid", "project_id", "name")
_REVISION = ("id", "name", "version")


def _newer(row: dict | None) -> SimpleNamespace | None:
    return SimpleNamespace(pk=row["id"], name=row["name"], version=row["version"]) if row else None


def _plain(series_id: int) -> Series | None:
    later = Series.objects.filter(previous_revision_id=OuterRef("pk"))
    # The plugin takes has_dependencies for a redefinition of the Series attribute, which
    # only declares what both paths set (Django refuses only a field's name).
    series = (
        Series.objects.select_related("cover", "previous_revision")  # type: ignore[no-redef]
        .only(*_SERIES, *(f"cover__{n}" for n in _COVER))
        .annotate(
            newer_revision_row=Subquery(
                later.order_by("-version", "-id").values(
                    row=JSONObject(id="id", name="name", version="version")
                )[:1]
            ),
            has_dependencies=Exists(
                Series.dependencies.through.objects.filter(from_series_id=OuterRef("pk"))
            ),
        )
        .filter(pk=series_id)
        .first()
    )
    if series is not None:
        series.newer_revision = _newer(series.newer_revision_row)
    return series


def series_for_patch_page(series_id: int, *, fast: bool | None = None) -> Series | None:
    """A series with its cover, previous revision, newest next revision (`newer_revision`)
    and whether it has dependencies (`has_dependencies`), in one query.

    Not joined to the patch's own query: with it, that query had eight tables and
    PostgreSQL took 6-12 ms to plan it (docs/benchmarks.md).
    """
    if not (fast_path() if fast is None else fast):
        return _plain(series_id)
    return read(series_read(series_id))


def series_read(series_id: int) -> Read:
    """series_for_patch_page's statement (fast path), for apps.patches.sql.read_together."""
    table = Series._meta.db_table
    columns = select_list(((Series, _SERIES, "s"), (Cover, _COVER, "c"), (Series, _REVISION, "pr")))
    sql = (
        f"SELECT {columns}, nr.id, nr.name, nr.version,"
        f" EXISTS (SELECT 1 FROM {Series.dependencies.through._meta.db_table} d"
        "  WHERE d.from_series_id = s.id)"
        f" FROM {table} s"
        f" LEFT JOIN {Cover._meta.db_table} c ON c.id = s.cover_id"
        f" LEFT JOIN {table} pr ON pr.id = s.previous_revision_id"
        f" LEFT JOIN LATERAL (SELECT n.id, n.name, n.version FROM {table} n"
        "  WHERE n.previous_revision_id = s.id ORDER BY n.version DESC, n.id DESC LIMIT 1)"
        " nr ON true"
        " WHERE s.id = %s"
    )
    shapes = [(Series, _SERIES), (Cover, _COVER), (Series, _REVISION)]
    return Read(sql, [series_id], shapes, _series)


def _series(rows: list[list]) -> Series | None:
    if not rows:
        return None
    series, cover, previous, extra = rows[0]
    series.cover = cover
    series.previous_revision = previous
    # The columns after the shapes': the newer revision and the dependencies flag.
    newer_id, newer_name, newer_version, series.has_dependencies = extra
    series.newer_revision = _newer(
        {"id": newer_id, "name": newer_name, "version": newer_version} if newer_id else None
    )
    return series


# --- light rows: the patches of a page of series ----------------------------------------
#
# Why, and the plain path: apps/patches/sql.py ("light rows"). A page of 100 series of the
# REST list (/api/1.4/series/?per_page=100, 5,000 patches, bench/light_rows.py) shows
# about 300 patches: read as light rows, the page costs 6-16% less CPU than as model
# instances (31.5 against 35.0 ms, 10.3% paired, requests alternating one by one; five
# runs, load average 3-7 on 2 cores), at the bar for a fast path. tests/api/test_light_rows.py
# asserts the same JSON. (The series themselves are model instances: light rows saved them
# about 5%, under the bar.)


def series_patch_rows(patches: QuerySet[Patch]) -> list[SimpleNamespace]:
    """The patches of `patches` as light rows with what the REST series shows of them."""
    return light_rows(patches.values("id", "msgid", "date", "name", "series_id"))


# --- the REST series list's series, as light rows --------------------------------------
#
# Why: the series list's 100 series as model instances (series, project, submitter,
# cover) cost the request 5.5 % more instructions than these light rows (REST series,
# first page: 107.3 M with them before issue 20's restructuring, 113.1 M with instances,
# callgrind, docs/benchmarks.md, issue 20), over the 5 % issue 20 allows the quick
# bench to lose. series_summaries(fast=False) is the plain path;
# tests/api/test_light_rows.py asserts both give the same JSON.

SERIES_SUMMARY_FIELDS = (
    "id",
    "name",
    "date",
    "version",
    "total",
    "project_id",
    "previous_revision_id",
    "submitter__id",
    "submitter__name",  # submitter_columns()
    "submitter__email",
    "cover_id",
    "cover__id",
    "cover__msgid",
    "cover__date",
    "cover__name",
)


def series_summary_rows(ids: list[int]) -> list[SimpleNamespace]:
    """Series by id, in that order, as light rows with what the REST series shows (one
    query; the submitter looked up by id)."""
    rows = (
        Series.objects.filter(ids_in("id", ids))
        .order_by()
        .annotate(**submitter_columns())
        .values(*SERIES_SUMMARY_FIELDS, *PROJECT)
    )
    by_id = {s.id: s for s in with_projects(light_rows(rows, nullable=("cover",)))}
    return [by_id[pk] for pk in ids if pk in by_id]


# --- the series candidates of a mail's placement ----------------------------------------
#
# Why: series_place asks for them for most patches and cover letters (by id, or for an
# unthreaded mail by submitter, version, total and date), and through the ORM
# (two Exists annotations and a join, compiled each time) they were the writer's largest
# single cost in a batched parsearchive: 2.22 s of 14.26 s under cProfile (473 queries,
# the 1,000-message bench archive; docs/benchmarks.md, issue 22, "Batched writer").
# series.services._load_candidates is the plain path; tests/series/test_candidates_sql.py
# asserts both give the same series.

_CANDIDATE_ROWS = (
    f"SELECT {select_list(((Series, _SERIES, 's'),))},"
    f" EXISTS (SELECT 1 FROM {Series._meta.db_table} n WHERE n.previous_revision_id = s.id),"
    f" EXISTS (SELECT 1 FROM {CoverComment._meta.db_table} c WHERE c.cover_id = s.cover_id),"
    " p.number, p.id"
    f" FROM {Series._meta.db_table} s"
    f" LEFT JOIN {Patch._meta.db_table} p ON p.series_id = s.id"
)
_CANDIDATES = _CANDIDATE_ROWS + " WHERE s.project_id = %s AND s.id = ANY(%s)"
# An unthreaded mail's candidates (services._by_markers): series of the same submitter,
# version and total sent around the same time, none of whose mails is threaded.
_UNTHREADED = (
    _CANDIDATE_ROWS + " WHERE s.project_id = %(project)s AND s.submitter_id = %(submitter)s"
    " AND s.version = %(version)s AND s.total = %(total)s"
    " AND s.date BETWEEN %(start)s AND %(end)s"
    f" AND NOT EXISTS (SELECT 1 FROM {AwaitedMessage._meta.db_table} a"
    f"  WHERE a.series_id = s.id AND a.kind = '{AwaitedMessage.THREAD}')"
)


def candidate_rows(project_id: int, ids: list[int]) -> list[tuple]:
    """(series, has_later, cover_replies, patch number, patch id) for each patch of the
    series of the project with these ids (one row with None, None for one without)."""
    rows = model_rows(_CANDIDATES, [project_id, ids], [(Series, _SERIES)])
    return [(series, *extra) for series, extra in rows]


def unthreaded_candidate_rows(
    project_id: int, submitter_id: int, version: int, total: int, start, end
) -> list[tuple]:
    """candidate_rows of the project's unthreaded series of this submitter, version and
    total dated from start to end."""
    params = {
        "project": project_id,
        "submitter": submitter_id,
        "version": version,
        "total": total,
        "start": start,
        "end": end,
    }
    rows = model_rows(_UNTHREADED, params, [(Series, _SERIES)])
    return [(series, *extra) for series, extra in rows]


# --- the later revisions a new series' identity may name -------------------------------
#
# Why: revisions_track asks for them for every new series and every threaded mail (10,224
# times for the 20,000-message bench archive), and the ORM's query (an OR of evidence, a
# join to the previous revision) was compiled each time: about two thirds of _find_later's
# time went to Python. revisions._later_plain is the plain path; tests/series/
# test_later_sql.py asserts both give the same series.

_LATER_OF = (
    " s.project_id = %(project)s AND s.submitter_id = %(submitter)s"
    " AND s.version > %(version)s AND s.id <> %(series)s"
)
_LATER = (
    f"SELECT {select_list(((Series, _SERIES, 's'),))}, false AS answering"
    f" FROM {Series._meta.db_table} s"
    f" LEFT JOIN {Series._meta.db_table} p ON p.id = s.previous_revision_id"
    f" WHERE {_LATER_OF}"
    # The evidence: a mail of it answers this series, or it has its name or change-id
    # (None: not a match by that) and was sent after it.
    " AND (s.id = ANY(%(threaded)s)"
    "  OR ((s.change_id = %(change_id)s OR s.name = %(name)s) AND s.date >= %(date)s))"
    # Linked to nothing better: no previous revision, an older one, or (not answering
    # this one) an older send of the same version.
    " AND (s.previous_revision_id IS NULL OR p.version < %(version)s"
    "  OR (NOT s.id = ANY(%(threaded)s) AND p.version = %(version)s"
    "   AND p.date < %(date)s AND s.date >= %(date)s))"
    # And those answering this series that are linked to another one.
    f" UNION ALL SELECT {select_list(((Series, _SERIES, 's'),))}, true"
    f" FROM {Series._meta.db_table} s"
    f" WHERE {_LATER_OF} AND s.id = ANY(%(threaded)s)"
    " AND s.previous_revision_id IS NOT NULL AND s.previous_revision_id <> %(series)s"
    " ORDER BY answering, date, id"
)


def later_revision_rows(
    series: Series, threaded: list[int], *, name: str | None, change_id: str | None
) -> tuple[list[Series], list[Series]]:
    """The series of series' project and submitter with a higher version that threaded
    names (by id) or that have this name or change-id and were sent after it, and whose
    previous revision, if any, is older; and those of threaded linked to another
    previous revision (revisions._find_later)."""
    params = {
        "project": series.project_id,
        "submitter": series.submitter_id,
        "version": series.version,
        "series": series.pk,
        "threaded": threaded,
        "name": name,
        "change_id": change_id,
        "date": series.date,
    }
    found: tuple[list[Series], list[Series]] = ([], [])
    for later, (answering,) in model_rows(_LATER, params, [(Series, _SERIES)]):
        found[answering].append(later)
    return found
