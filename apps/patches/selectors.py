"""Reads about patches, covers, comments and bundles, shaped for the APIs and pages.

List helpers load everything a page of results needs in a fixed number of
queries, whatever the page size.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

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


# --- patches -------------------------------------------------------------------------


def patches_for_list() -> QuerySet[Patch]:
    """Patches with what their summary shows; the big text fields are left out."""
    return Patch.objects.select_related(
        "project", "state", "submitter", "delegate", "series"
    ).defer("content", "diff", "headers")


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
