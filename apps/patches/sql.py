"""Fast paths of the patch page's reads: hand-written SQL into model instances.

Why: at 12.7k patches the patch page must answer in <= 10 ms (c=1 p50, bench/reads.py,
"HTML patch page"). In-process, building and compiling its small ORM queries cost about
1-2 ms of CPU each, most of the page's Python time; the same rows read by these
statements cost about 0.2 ms each (docs/benchmarks.md, "The patch page").

Each function has the plain Django path too (`fast=False`, and on databases other than
PostgreSQL, whose drivers give back the Python values Django's converters would);
tests/ui/test_patch_page_sql.py asserts both give the same objects and fields.
Instances are made with Model.from_db, as the ORM makes them: the fields not read are
deferred, the related objects read with a row are set as their foreign keys' values.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model, Subquery

from apps.events.models import Event
from apps.patches.models import Patch, PatchComment, PatchTag
from apps.projects.models import Person, Project, State

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


def model_rows(sql: str, params: Sequence, shapes: Sequence[Shape]) -> list[list]:
    """Each row of `sql` as one instance per shape (the columns of select_list, in order),
    None for a shape whose columns are all NULL (an outer join that found nothing), then
    a tuple of the columns after the shapes'."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ordered = [(model, _fields(model, names)) for model, names in shapes]
    out = []
    for row in rows:
        objs, start = [], 0
        for model, names in ordered:
            end = start + len(names)
            values = row[start:end]
            empty = all(v is None for v in values)
            objs.append(None if empty else model.from_db(connection.alias, names, values))
            start = end
        objs.append(row[start:])
        out.append(objs)
    return out


# --- the patch, with its project, submitter, state and delegate -------------------------


def _all(model: type[Model]) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


def patch_for_page(linkname: str, msgid: str, *, fast: bool | None = None) -> Patch | None:
    """The patch of a project by Message-ID (with brackets), with its project, submitter,
    state and delegate, and `live_cursor`: the newest event id, read with the page's data."""
    if not (fast_path() if fast is None else fast):
        # The plugin takes the annotation for a redefinition of Patch.live_cursor, which
        # only declares the attribute both paths set (Django refuses only a field's name).
        return (
            Patch.objects.select_related("project", "submitter", "delegate", "state")  # type: ignore[no-redef]
            .annotate(live_cursor=Subquery(Event.objects.order_by("-id").values("id")[:1]))
            .filter(project__linkname=linkname, msgid=msgid)
            .first()
        )
    user = get_user_model()
    shapes = [(Patch, _all(Patch)), (Project, _all(Project)), (Person, _all(Person))]
    shapes += [(State, _all(State)), (user, _all(user))]
    aliases = ("p", "pr", "s", "st", "d")
    columns = select_list(tuple((m, n, a) for (m, n), a in zip(shapes, aliases, strict=True)))
    sql = (
        f"SELECT {columns}, (SELECT max(e.id) FROM {Event._meta.db_table} e)"
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
    patch, project, submitter, state, delegate, (cursor,) = rows[0]
    patch.project, patch.submitter, patch.state = project, submitter, state
    patch.delegate = delegate
    patch.live_cursor = cursor
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
    columns = select_list(((PatchComment, _COMMENT, "c"), (Person, _PERSON, "s")))
    sql = (
        f"SELECT {columns} FROM {PatchComment._meta.db_table} c"
        f" JOIN {Person._meta.db_table} s ON s.id = c.submitter_id"
        " WHERE c.patch_id = %s ORDER BY c.date, c.id"
    )
    comments = []
    for comment, submitter, _ in model_rows(
        sql, [patch_id], [(PatchComment, _COMMENT), (Person, _PERSON)]
    ):
        comment.submitter = submitter
        comments.append(comment)
    return comments


# --- the tags given so far --------------------------------------------------------------


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
    else:
        sql = (
            f"SELECT {select_list(((Patch, _NAV_PATCH, 'p'),))} FROM {Patch._meta.db_table} p"
            " WHERE p.series_id = %s ORDER BY p.number, p.date, p.id"
        )
        patches = [row[0] for row in model_rows(sql, [series_id], [(Patch, _NAV_PATCH)])]
    for p in patches:
        if p.project_id == project.pk:  # a series lives in one project
            p.project = project
    return patches
