"""Fast paths: the patch page's reads (hand-written SQL into model instances), and the REST
patch list's rows read as light rows (at the end of this module).

Why: at 12.7k patches the patch page must answer in <= 10 ms (c=1 p50, bench/reads.py,
"HTML patch page"). In-process, building and compiling its small ORM queries cost about
1-2 ms of CPU each, most of the page's Python time; the same rows read by these
statements cost about 0.2 ms each (docs/benchmarks.md, "The patch page").

Each function has the plain Django path too (`fast=False`, and on databases other than
PostgreSQL, whose drivers give back the Python values Django's converters would);
tests/web/test_patch_page_sql.py asserts both give the same objects and fields.
Instances are made with Model.from_db, as the ORM makes them: the fields not read are
deferred, the related objects read with a row are set as their foreign keys' values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Any

import psycopg
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model, OuterRef, QuerySet, Subquery

from apps.events.models import Event
from apps.patches.models import Patch, PatchComment, PatchTag
from apps.projects.models import Person, Project, State, Tag

Shape = tuple[type[Model], tuple[str, ...]]


def fast_path() -> bool:
    return connection.vendor == "postgresql"


@cache
def _fields(model: type[Model], names: tuple[str, ...]) -> tuple[str, ...]:
    """The attnames among `names`, in the order of the model's concrete fields (from_db's)."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


@cache
def select_list(shapes: tuple[tuple[type[Model], tuple[str, ...], str], ...]) -> str:
    """The SELECT list for (model, fields, table alias) shapes, in from_db's order."""
    parts = []
    for model, names, alias in shapes:
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        parts += [f'{alias}."{by_attname[n]}"' for n in _fields(model, names)]
    return ", ".join(parts)


def model_rows(
    sql: str, params: Sequence | Mapping[str, Any], shapes: Sequence[Shape]
) -> list[list]:
    """Each row of `sql` as one instance per shape (the columns of select_list, in order),
    None for a shape whose columns are all NULL (an outer join that found nothing), then
    a tuple of the columns after the shapes'."""
    with _cursor() as cursor:
        cursor.execute(sql, params)
        return _instances(cursor.fetchall(), shapes)


def _cursor():
    """A Django cursor over a psycopg cursor that binds parameters on the server, so that
    psycopg prepares a statement a connection has run `prepare_threshold` times
    (DATABASES OPTIONS, config/settings.py) and PostgreSQL stops planning it: planning was
    about 0.9 ms of the page's 1.1 ms in PostgreSQL (docs/benchmarks.md, "Fourth
    pass"). Django's own cursors bind on the client, which psycopg never prepares."""
    connection.ensure_connection()
    cursor = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


def _instances(rows: list[tuple], shapes: Sequence[Shape]) -> list[list]:
    ordered = [(model, _fields(model, names)) for model, names in shapes]
    out = []
    for row in rows:
        objs: list[Any] = []
        start = 0
        for model, names in ordered:
            end = start + len(names)
            values = row[start:end]
            empty = all(v is None for v in values)
            objs.append(None if empty else model.from_db(connection.alias, names, values))
            start = end
        objs.append(row[start:])
        out.append(objs)
    return out


@dataclass(frozen=True)
class Read:
    """A statement of a page and what its rows become (`make` of model_rows' rows)."""

    sql: str
    params: Sequence
    shapes: Sequence[Shape]
    make: Callable[[list[list]], Any]


def read(one: Read) -> Any:
    return one.make(model_rows(one.sql, one.params, one.shapes))


def read_together(reads: Sequence[Read]) -> list[Any]:
    """What each read makes, its statements sent in one round trip (psycopg's pipeline
    mode) through Django's cursors, so they are counted and logged as any query.

    Why: a round trip wakes the server and then this process again; on a busy machine
    each wake-up waits for a core. The patch page's four reads after the patch's own
    took 4 round trips (docs/benchmarks.md, "Fourth pass").
    """
    with _cursor() as first:
        cursors = [first, *(_cursor() for _ in reads[1:])]
        try:
            with connection.connection.pipeline():
                for cursor, one in zip(cursors, reads, strict=True):
                    cursor.execute(one.sql, one.params)
            rows = [cursor.fetchall() for cursor in cursors]
        finally:
            for cursor in cursors[1:]:
                cursor.close()
    return [one.make(_instances(r, one.shapes)) for one, r in zip(reads, rows, strict=True)]


# --- the patch, with its project, submitter, state and delegate -------------------------


def all_fields(model: type[Model]) -> tuple[str, ...]:
    """Every column of a model, as select_list and model_rows name them."""
    return tuple(f.attname for f in model._meta.concrete_fields)


def patch_for_page(linkname: str, msgid: str, *, fast: bool | None = None) -> Patch | None:
    """The patch of a project by Message-ID (with brackets), with its project, submitter,
    state and delegate, and `live_cursor`: the newest event id, read with the page's data."""
    if not (fast_path() if fast is None else fast):
        # The plugin takes the annotation for a redefinition of Patch.live_cursor, which
        # only declares the attribute both paths set (Django refuses only a field's name).
        found = (
            Patch.objects.select_related("project", "submitter", "delegate", "state")  # type: ignore[no-redef]
            .annotate(live_cursor=Subquery(Event.objects.order_by("-id").values("id")[:1]))
            .filter(project__linkname=linkname, msgid=msgid)
            .first()
        )
        if found is not None:
            found.page_tags = patch_tags_for_page(found.pk, fast=False)
        return found
    user = get_user_model()
    shapes = [
        (Patch, all_fields(Patch)),
        (Project, all_fields(Project)),
        (Person, all_fields(Person)),
    ]
    shapes += [(State, all_fields(State)), (user, all_fields(user))]
    aliases = ("p", "pr", "s", "st", "d")
    columns = select_list(tuple((m, n, a) for (m, n), a in zip(shapes, aliases, strict=True)))
    sql = (
        f"SELECT {columns}, (SELECT max(e.id) FROM {Event._meta.db_table} e), ({_TAGS_JSON})"
        f" FROM {Patch._meta.db_table} p"
        f" JOIN {Project._meta.db_table} pr ON pr.id = p.project_id"
        f" JOIN {Person._meta.db_table} s ON s.id = p.submitter_id"
        f" JOIN {State._meta.db_table} st ON st.id = p.state_id"
        f" LEFT JOIN {user._meta.db_table} d ON d.id = p.delegate_id"
        " WHERE p.msgid = %s AND pr.linkname = %s"
    )
    rows = model_rows(sql, [msgid, linkname], shapes)
    if not rows:
        return None
    patch, project, submitter, state, delegate, (cursor, tags) = rows[0]
    patch.project, patch.submitter, patch.state = project, submitter, state
    patch.delegate = delegate
    patch.live_cursor = cursor
    patch.page_tags = [
        {"name": name, "abbrev": abbrev, "count": count}
        for name, abbrev, count in json.loads(tags or "[]")
    ]
    return patch


# --- the comments, with their submitters -----------------------------------------------

_COMMENT = ("id", "msgid", "date", "headers", "content", "patch_id", "submitter_id", "addressed")
_PERSON = ("id", "email", "name", "user_id")


def patch_comments_for_page(patch_id: int, *, fast: bool | None = None) -> list[PatchComment]:
    """A patch's comments in date order, each with its submitter."""
    if not (fast_path() if fast is None else fast):
        return list(
            PatchComment.objects.filter(patch_id=patch_id)
            .select_related("submitter")
            .order_by("date", "id")
        )
    return read(comments_read(patch_id))


def comments_read(patch_id: int) -> Read:
    """patch_comments_for_page's statement (fast path), for read_together."""
    columns = select_list(((PatchComment, _COMMENT, "c"), (Person, _PERSON, "s")))
    sql = (
        f"SELECT {columns} FROM {PatchComment._meta.db_table} c"
        f" JOIN {Person._meta.db_table} s ON s.id = c.submitter_id"
        " WHERE c.patch_id = %s ORDER BY c.date, c.id"
    )
    return Read(sql, [patch_id], [(PatchComment, _COMMENT), (Person, _PERSON)], _comments)


def _comments(rows: list[list]) -> list[PatchComment]:
    comments = []
    for comment, submitter, _ in rows:
        comment.submitter = submitter
        comments.append(comment)
    return comments


# --- the tags given so far --------------------------------------------------------------


# The tag counts of patch `p`, as patch_tags_for_page gives them, read with the patch (one
# round trip less for the page: patch_for_page).
_TAGS_JSON = (
    "SELECT json_agg(json_build_array(t.name, t.abbrev, pt.count) ORDER BY t.abbrev)::text"
    f" FROM {PatchTag._meta.db_table} pt"
    f" JOIN {Tag._meta.db_table} t ON t.id = pt.tag_id"
    " WHERE pt.patch_id = p.id AND pt.count > 0"
)


def patch_tags_for_page(patch_id: int, *, fast: bool | None = None) -> list[dict]:
    """A patch's tags given so far (Acked-by ×2, …) in the order of their abbreviations."""
    if not (fast_path() if fast is None else fast):
        rows = (
            PatchTag.objects.filter(patch_id=patch_id, count__gt=0)
            .order_by("tag__abbrev")
            .values_list("tag__name", "tag__abbrev", "count")
        )
    else:
        tag = PatchTag._meta.get_field("tag").related_model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.name, t.abbrev, pt.count FROM {PatchTag._meta.db_table} pt"
                f" JOIN {tag} t ON t.id = pt.tag_id"
                " WHERE pt.patch_id = %s AND pt.count > 0 ORDER BY t.abbrev",
                [patch_id],
            )
            rows = cursor.fetchall()
    return [{"name": name, "abbrev": abbrev, "count": count} for name, abbrev, count in rows]


# --- the patches of a series, for its box on a patch page ----------------------------

_NAV_PATCH = ("id", "msgid", "date", "project_id", "name", "number")


def series_patches_for_nav(
    series_id: int, project: Project, *, fast: bool | None = None
) -> list[Patch]:
    """A series' patches in order (id, Message-ID, name, number, date), with `project`."""
    if not (fast_path() if fast is None else fast):
        patches = list(
            Patch.objects.filter(series_id=series_id)
            .only(*_NAV_PATCH)
            .order_by("number", "date", "id")
        )
        return _with_project(patches, project)
    return read(series_patches_read(series_id, project))


def series_patches_read(series_id: int, project: Project) -> Read:
    """series_patches_for_nav's statement (fast path), for read_together."""
    sql = (
        f"SELECT {select_list(((Patch, _NAV_PATCH, 'p'),))} FROM {Patch._meta.db_table} p"
        " WHERE p.series_id = %s ORDER BY p.number, p.date, p.id"
    )
    return Read(
        sql,
        [series_id],
        [(Patch, _NAV_PATCH)],
        lambda rows: _with_project([row[0] for row in rows], project),
    )


def _with_project(patches: list[Patch], project: Project) -> list[Patch]:
    for p in patches:
        if p.project_id == project.pk:  # a series lives in one project
            p.project = project
    return patches


# --- light rows: REST lists ----------------------------------------------------------------
#
# Why: a REST list page of 100 patches spends a good share of its CPU building model
# instances. Read with values() and turned into plain attribute objects, the same page
# costs less: in-process on PostgreSQL, 5,000 patches (bench/dataset.py), median CPU per
# request, A/B (bench/light_rows.py; seven runs, load average 2-7 on 2 cores):
# /api/1.4/patches/?per_page=100 took 10-16% less CPU than with model instances
# (select_related/only): e.g. 21.4 against 23.7 ms with the requests alternating one by
# one (10.6% paired), 18.9 against 22.5 ms in blocks; one run in blocks, beside a test
# suite, showed none. The serializers read both alike; the plain path
# (``fast=False`` in the selectors) gives the same JSON in the same number of queries:
# tests/api/test_light_rows.py. apps/series/sql.py uses them for a series page's patches.


def light_rows(
    rows: Iterable[Mapping[str, Any]], nullable: Iterable[str] = ()
) -> list[SimpleNamespace]:
    """``values()`` rows as attribute objects, ``a__b`` keys nested (``row.a.b``).

    Serializers read them like model instances at a fraction of the cost of building
    those; a relation in `nullable` whose ``<name>_id`` is None becomes None.
    """
    out: list[SimpleNamespace] = []
    plain: list[str] = []
    nested: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        if not out:  # every row has the same keys: split them once
            for key in row:
                head, sep, rest = key.partition("__")
                if sep:
                    nested.setdefault(head, []).append((key, rest))
                else:
                    plain.append(key)
        obj = SimpleNamespace(pk=row["id"], **{key: row[key] for key in plain})
        for name, keys in nested.items():
            setattr(obj, name, SimpleNamespace(**{rest: row[key] for key, rest in keys}))
        for name in nullable:
            if getattr(obj, f"{name}_id") is None:
                setattr(obj, name, None)
        out.append(obj)
    return out


# Every column of a row's project, joined in (``values(*PROJECT)``): see with_projects().
PROJECT = tuple(f"project__{f.attname}" for f in Project._meta.concrete_fields)


def with_projects(rows: list[SimpleNamespace]) -> list[SimpleNamespace]:
    """Turn each light row's joined project columns into one Project per project."""
    projects: dict[int, Project] = {}
    for row in rows:
        values = vars(row.project)
        project = projects.get(values["id"])
        if project is None:
            project = projects[values["id"]] = Project(**values)
        row.project = project
    return rows


def submitter_columns(field: str = "submitter_id") -> dict[str, Subquery]:
    """``submitter__name`` and ``submitter__email`` as subqueries, for ``values()``.

    Joined instead, the planner hashes the whole people table for a page of 100 rows
    (its cost grows with the table: 2-3 ms at 100,000 patches, planning included)
    where these look each one up by primary key.
    """
    person = Person.objects.filter(pk=OuterRef(field)).order_by()
    return {
        "submitter__name": Subquery(person.values("name")),
        "submitter__email": Subquery(person.values("email")),
    }


# What a patch's list summary shows (apps.api.serializers.patches.patch_to_dict), by column.
PATCH_SUMMARY_FIELDS = (
    "id",
    "msgid",
    "date",
    "name",
    "commit_ref",
    "pull_url",
    "archived",
    "hash",
    "project_id",
    "related_id",
    "state__slug",
    "submitter__id",
    "submitter__name",  # submitter_columns()
    "submitter__email",
    "delegate_id",
    "delegate__id",
    "delegate__username",
    "delegate__first_name",
    "delegate__last_name",
    "delegate__email",
    "series_id",
    "series__id",
    "series__name",
    "series__date",
    "series__version",
)


def patch_summary_rows(patches: QuerySet[Patch]) -> list[SimpleNamespace]:
    """The patches of `patches` as light rows with what list summaries show (one query)."""
    rows = patches.annotate(**submitter_columns()).values(*PATCH_SUMMARY_FIELDS, *PROJECT)
    return with_projects(light_rows(rows, nullable=("delegate", "series")))
