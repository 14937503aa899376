"""Reads about patches, covers, comments and bundles, shaped for the APIs and pages.

List helpers load everything a page of results needs in a fixed number of
queries, whatever the page size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from typing import Any

from django.db.models import F, Lookup, Prefetch, Q, QuerySet
from django.db.models.lookups import In

from apps.patches.models import (
    Bundle,
    BundlePatch,
    Cover,
    CoverComment,
    Patch,
    PatchComment,
    PatchTag,
)
from apps.patches.sql import patch_summary_rows

# --- headers and subjects ------------------------------------------------------------


def parse_headers(block: str) -> dict[str, str | list[str]]:
    """The stored header block as a dict, each value exactly as received (folding and
    encoded words kept, as Patchwork answers); a repeated header gives a list."""
    values: dict[str, list[str]] = {}
    last = None
    for line in (block or "").split("\n"):
        if not line:
            continue
        if line[0] in " \t":
            if last is not None:
                values[last][-1] += "\n" + line
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            last = None
            continue
        last = name
        values.setdefault(name, []).append(value.lstrip(" \t"))
    return {name: found[0] if len(found) == 1 else found for name, found in values.items()}


_FOLD_RE = re.compile(r"\r?\n(?=[ \t])")


def header_value(block: str, name: str) -> str:
    """The first value of a header in the stored block ('' if absent), case-insensitively,
    unfolded and with its encoded words decoded (for names and subjects shown as text)."""
    wanted = name.lower()
    for key, value in parse_headers(block).items():
        if key.strip().lower() == wanted:
            first = value[0] if isinstance(value, list) else value
            return _decoded(_FOLD_RE.sub("", first)).strip()
    return ""


def _decoded(value: str) -> str:
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return value  # a broken encoded word is shown as sent


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


class AnyOf(Lookup):
    """``column = ANY(%s)``: a page's ids as one array parameter (PostgreSQL; IN elsewhere).

    ``pk__in=ids`` compiles one placeholder per id, each prepared and quoted apart: for
    a page of 100 ids that took more CPU than the database took to run the query.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql":
            return compiler.compile(In(self.lhs, self.rhs))
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", [*params, int_array(self.rhs)]


def int_array(ids: Iterable[int]) -> str:
    """Integers as one PostgreSQL array literal: the driver adapts a list item by item."""
    return "{" + ",".join(str(int(pk)) for pk in ids) + "}"


def ids_in(field: str, ids: Iterable[int]) -> AnyOf:
    """A filter: `field` (an integer column) is one of `ids`."""
    return AnyOf(F(field), [int(pk) for pk in ids])


# --- patches -------------------------------------------------------------------------


# What a patch's list summary shows (apps.api.serializers.patches.patch_to_dict).
PATCH_SUMMARY_ONLY = (
    "id",
    "msgid",
    "date",
    "name",
    "commit_ref",
    "pull_url",
    "archived",
    "hash",
    "project",
    "related_id",
    "state__slug",
    "submitter__name",
    "submitter__email",
    "delegate__username",
    "delegate__first_name",
    "delegate__last_name",
    "delegate__email",
    "series__name",
    "series__date",
    "series__version",
)


def patch_summaries(ids: list[int], *, fast: bool = True) -> list[Patch]:
    """Patches by id, in that order, with what list summaries show (one query).

    `fast` reads them as light rows (apps/patches/sql.py, patch_summary_rows: about 15%
    of the REST patch list's CPU); otherwise as model instances.
    """
    if not ids:
        return []
    qs = Patch.objects.filter(ids_in("id", ids)).order_by()
    found: list[Any]  # light rows stand in for model instances
    if fast:
        found = patch_summary_rows(qs)
    else:
        found = list(
            qs.select_related("project", "state", "submitter", "delegate", "series").only(
                *PATCH_SUMMARY_ONLY
            )
        )
    by_id: dict[int, Any] = {p.id: p for p in found}
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
        PatchTag.objects.filter(ids_in("patch_id", patch_ids), count__gt=0)
        .order_by("tag__name")
        .values_list("patch_id", "tag__name", "count")
    )
    for patch_id, name, count in rows:
        counts[patch_id][name] = count
    return counts


def patch_related(patches: Iterable[Patch]) -> dict[int, list[Patch]]:
    """For each patch in a relation, the other patches of that relation."""
    patches = [p for p in patches if p.related_id]
    if not patches:
        return {}
    members: dict[int | None, list[Patch]] = defaultdict(list)
    rows = (
        Patch.objects.filter(related_id__in={p.related_id for p in patches})
        .select_related("project")
        .only("id", "msgid", "name", "date", "related_id", "project")
        .order_by("id")
    )
    for row in rows:
        members[row.related_id].append(row)
    return {p.pk: [m for m in members[p.related_id] if m.pk != p.pk] for p in patches}


def patch_list_extras(
    patches: list[Patch], *, related: bool = True, checks: dict[int, str] | None = None
) -> PatchListExtras:
    """Tag counts and relations of a page of patches (two queries at most), with their check
    states as given (apps.checks.selectors.check_states)."""
    ids = [p.pk for p in patches]
    if not ids:
        return PatchListExtras()
    return PatchListExtras(
        checks=checks or {},
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
