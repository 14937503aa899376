"""Tag counts (Acked-by, Reviewed-by, ...) on patches, from the patch and its comments."""

from __future__ import annotations

from collections import Counter

from apps.mail.parse.tags import count_tags, find_trailers
from apps.patches.models import CoverComment, Patch, PatchTag
from apps.projects.models import Tag


def tag_patterns() -> dict[int, str]:
    return dict(Tag.objects.values_list("pk", "pattern"))


def patch_tags_set(
    *,
    patch: Patch,
    counts: Counter,
    existing: dict[int, PatchTag] | None = None,
    grown: bool = False,
):
    """Make the patch's PatchTag rows say exactly counts (zero counts have no row).

    grown: no count went down (a reply was added), so the rows are upserted in one statement.
    """
    if grown:
        rows = [PatchTag(patch=patch, tag_id=t, count=n) for t, n in counts.items() if n]
        if rows:
            PatchTag.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["patch", "tag"],
                update_fields=["count"],
            )
        return
    if existing is None:
        existing = {pt.tag_id: pt for pt in PatchTag.objects.filter(patch=patch)}
    create, update = [], []
    for tag_id, count in counts.items():
        row = existing.get(tag_id)
        if row is None:
            create.append(PatchTag(patch=patch, tag_id=tag_id, count=count))
        elif row.count != count:
            row.count = count
            update.append(row)
    stale = [row.pk for tag_id, row in existing.items() if not counts.get(tag_id)]
    if create:
        PatchTag.objects.bulk_create(create)
    if update:
        PatchTag.objects.bulk_update(update, ["count"])
    if stale:
        PatchTag.objects.filter(pk__in=stale).delete()


def _cover_comment_contents(series_id: int | None, project):
    """The replies to a series' cover letter (contents), when they count for its patches."""
    if not (series_id and project.use_tags and project.cover_trailers):
        return None
    return CoverComment.objects.filter(cover__series__id=series_id).values_list(
        "content", flat=True
    )


def cover_trailers(*, series_id: int | None, project, patterns: dict[int, str]) -> list[set]:
    """Trailers given in reply to a series' cover letter: they count for all its patches."""
    contents = _cover_comment_contents(series_id, project)
    if contents is None or not patterns:
        return []
    return [find_trailers(content, patterns) for content in contents]


def patch_tags_refresh(
    *, patch: Patch, patterns: dict[int, str] | None = None, grown: bool = False
) -> Counter:
    """Recount a patch's tags: commit message, comments, and its cover letter's comments.

    grown: a reply was only added since the last count (see patch_tags_set)."""
    patterns = tag_patterns() if patterns is None else patterns
    counts: Counter = Counter()
    if patch.project.use_tags and patterns:
        # The patch's comments and its cover letter's, in one query.
        replies = patch.comments.order_by().values_list("content", flat=True)
        cover = _cover_comment_contents(patch.series_id, patch.project)
        if cover is not None:
            replies = replies.union(cover.order_by(), all=True)
        sets = [find_trailers(patch.content, patterns)]
        sets += [find_trailers(content, patterns) for content in replies]
        counts = count_tags(sets)
    patch_tags_set(patch=patch, counts=counts, grown=grown)
    return counts


def series_tags_refresh(*, series_id: int | None, patterns: dict[int, str]) -> None:
    """Recount every patch of a series (a trailer was given to its cover letter)."""
    if series_id is None:
        return
    for patch in Patch.objects.filter(series_id=series_id).select_related("project"):
        patch_tags_refresh(patch=patch, patterns=patterns)
