"""Reads about patches, covers, comments and bundles, shaped for the APIs and pages.

List helpers load everything a page of results needs in a fixed number of
queries, whatever the page size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db.models import Prefetch, Q, QuerySet

from apps.checks.selectors import check_summaries
from apps.patches.models import (
    Bundle,
    BundlePatch,
    Cover,
    CoverComment,
    Patch,
    PatchComment,
    PatchTag,
)
from apps.projects.models import Project

# --- headers and subjects ------------------------------------------------------------


def parse_headers(block: str) -> dict[str, str | list[str]]:
    """The stored header block as a dict; a repeated header becomes a list of its values."""
    values: dict[str, list[str]] = {}
    last = None
    for line in (block or "").splitlines():
        if not line.strip():
            continue
        if line[0] in " \t" and last is not None:
            values[last][-1] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            continue
        last = name.strip()
        values.setdefault(last, []).append(value.strip())
    return {name: found[0] if len(found) == 1 else found for name, found in values.items()}


def header_value(block: str, name: str) -> str:
    """The first value of a header in the stored block ('' if absent), case-insensitively."""
    wanted = name.lower()
    for line in (block or "").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == wanted:
            return value.strip()
    return ""


_LEADING_BRACKETS = re.compile(r"^\s*((?:\[[^\]]*\]\s*)+)")


def subject_prefixes(name: str) -> list[str]:
    """The prefixes kept in a submission's name (``[v2,1/3] x`` → ``['v2', '1/3']``)."""
    match = _LEADING_BRACKETS.match(name or "")
    if not match:
        return []
    prefixes = []
    for group in re.findall(r"\[([^\]]*)\]", match.group(1)):
        for part in re.split(r"[,\s]+", group):
            if part and part.lower() != "patch":
                prefixes.append(part)
    return prefixes


# --- pages of REST lists ----------------------------------------------------------------


def light_rows(rows: Iterable[dict], nullable: Iterable[str] = ()) -> list[SimpleNamespace]:
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


# --- patches -------------------------------------------------------------------------


# What a patch's list summary shows (apps.patches.serializers.patch_to_dict), by column.
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
    "submitter__name",
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


def patch_summaries(ids: list[int]) -> list[SimpleNamespace]:
    """Patches by id, in that order, as light objects with what list summaries show."""
    if not ids:
        return []
    rows = Patch.objects.filter(pk__in=ids).order_by().values(*PATCH_SUMMARY_FIELDS, *PROJECT)
    by_id = {p.id: p for p in with_projects(light_rows(rows, nullable=("delegate", "series")))}
    return [by_id[pk] for pk in ids if pk in by_id]


def patches_for_detail() -> QuerySet[Patch]:
    return Patch.objects.select_related("project", "state", "submitter", "delegate", "series")


def patch_get(patch_id: int) -> Patch | None:
    return patches_for_detail().filter(pk=patch_id).first()


@dataclass
class PatchListExtras:
    """Per-patch data a list shows that lives in other tables, loaded in bulk."""

    checks: dict[int, str] = field(default_factory=dict)
    tags: dict[int, dict[str, int]] = field(default_factory=dict)
    related: dict[int, list[Patch]] = field(default_factory=dict)

    def check(self, patch: Patch) -> str:
        return self.checks.get(patch.pk, "pending")


def patch_tag_counts(patch_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Tag name → count for each patch (only tags that were given)."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        PatchTag.objects.filter(patch_id__in=list(patch_ids), count__gt=0)
        .select_related("tag")
        .order_by("tag__name")
    )
    for row in rows:
        counts[row.patch_id][row.tag.name] = row.count
    return counts


def patch_related(patches: Iterable[Patch]) -> dict[int, list[Patch]]:
    """For each patch in a relation, the other patches of that relation."""
    patches = [p for p in patches if p.related_id]
    if not patches:
        return {}
    members: dict[int, list[Patch]] = defaultdict(list)
    rows = (
        Patch.objects.filter(related_id__in={p.related_id for p in patches})
        .select_related("project")
        .only("id", "msgid", "name", "date", "related_id", "project")
        .order_by("id")
    )
    for row in rows:
        members[row.related_id].append(row)
    return {p.pk: [m for m in members[p.related_id] if m.pk != p.pk] for p in patches}


def patch_list_extras(patches: list[Patch], *, related: bool = True) -> PatchListExtras:
    """Check states, tag counts and relations of a page of patches: three queries at most."""
    ids = [p.pk for p in patches]
    if not ids:
        return PatchListExtras()
    summaries = check_summaries(ids)
    return PatchListExtras(
        checks={pid: summary["state"] for pid, summary in summaries.items()},
        tags=patch_tag_counts(ids),
        related=patch_related(patches) if related else {},
    )


# --- covers and comments -------------------------------------------------------------------


def covers_for_list() -> QuerySet[Cover]:
    return Cover.objects.select_related("project", "submitter", "series").defer(
        "content", "headers"
    )


def covers_for_detail() -> QuerySet[Cover]:
    return Cover.objects.select_related("project", "submitter", "series")


def patch_comments(patch: Patch) -> QuerySet[PatchComment]:
    return PatchComment.objects.filter(patch=patch).select_related("submitter")


def cover_comments(cover: Cover) -> QuerySet[CoverComment]:
    return CoverComment.objects.filter(cover=cover).select_related("submitter")


# --- bundles --------------------------------------------------------------------------------


def bundles_visible_to(user) -> QuerySet[Bundle]:
    """Public bundles and the user's own."""
    qs = Bundle.objects.all()
    if getattr(user, "is_authenticated", False):
        return qs.filter(Q(public=True) | Q(owner=user))
    return qs.filter(public=True)


def bundles_with_patches(qs: QuerySet[Bundle]) -> QuerySet[Bundle]:
    """Bundles with owner, project and their patches (in bundle order) in two queries."""
    return qs.select_related("project", "owner").prefetch_related(
        Prefetch(
            "bundlepatches",
            queryset=BundlePatch.objects.select_related("patch__project")
            .defer("patch__content", "patch__diff", "patch__headers")
            .order_by("order"),
        )
    )


def bundle_patches_in_order(bundle: Bundle) -> list[Patch]:
    """A bundle's patches in bundle order (uses the prefetch when there is one)."""
    return [bp.patch for bp in bundle.bundlepatches.all()]
