"""Tag counts (Acked-by, Reviewed-by, ...) on patches, from the patch and its comments."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db.models import Q

from apps.mail.parse.tags import count_tags, find_trailers
from apps.patches.models import CoverComment, Patch, PatchComment, PatchTag
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
    _tags_write(*_tags_changes(patch, counts, existing))


_Changes = tuple[list[PatchTag], list[PatchTag], list[int]]


def _tags_changes(patch: Patch, counts: Counter, existing: dict[int, PatchTag]) -> _Changes:
    """The rows to create, to update and the ids to delete for the patch to have counts."""
    create, update = [], []
    for tag_id, count in counts.items():
        row = existing.get(tag_id)
        if row is None:
            create.append(PatchTag(patch=patch, tag_id=tag_id, count=count))
        elif row.count != count:
            row.count = count
            update.append(row)
    stale = [row.pk for tag_id, row in existing.items() if not counts.get(tag_id)]
    return create, update, stale


def _tags_write(create: list[PatchTag], update: list[PatchTag], stale: list[int]) -> None:
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


def patch_tags_count_new(patch: Patch, series, patterns: dict[int, str]) -> None:
    """Count a new patch's review trailers, its cover letter's replies' included."""
    sets = [find_trailers(patch.content, patterns)]
    if series.cover_id and series.cover_replies:
        # Trailers given to the cover letter count for every patch of the series.
        sets += cover_trailers(series_id=series.pk, project=patch.project, patterns=patterns)
    counts = count_tags(sets)
    if counts:
        patch_tags_set(patch=patch, counts=counts, existing={})


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


def patches_tags_recount(
    *, patch_ids: set[int], series_ids: set[int], patterns: dict[int, str]
) -> None:
    """patch_tags_refresh for many patches, and every patch of these series, at once: five
    queries (a batch recounts what its mails touched when it ends)."""
    patches = list(
        Patch.objects.filter(Q(pk__in=patch_ids) | Q(series_id__in=series_ids))
        .select_related("project")
        .only("content", "series_id", "project__use_tags", "project__cover_trailers")
    )
    ids = [patch.pk for patch in patches]
    replies: dict[int, list[str]] = defaultdict(list)
    for patch_id, content in PatchComment.objects.filter(patch_id__in=ids).values_list(
        "patch_id", "content"
    ):
        replies[patch_id].append(content)
    # The cover letters' replies, where they count (_cover_comment_contents).
    counted = {
        p.series_id
        for p in patches
        if p.series_id is not None and p.project.use_tags and p.project.cover_trailers
    }
    cover: dict[int, list[str]] = defaultdict(list)
    for series_id, content in CoverComment.objects.filter(
        cover__series__id__in=counted
    ).values_list("cover__series__id", "content"):
        cover[series_id].append(content)
    existing: dict[int, dict[int, PatchTag]] = defaultdict(dict)
    for row in PatchTag.objects.filter(patch_id__in=ids):
        existing[row.patch_id][row.tag_id] = row
    create: list[PatchTag] = []
    update: list[PatchTag] = []
    stale: list[int] = []
    for patch in patches:
        counts: Counter = Counter()
        if patch.project.use_tags and patterns:
            texts = [patch.content, *replies[patch.pk], *cover.get(patch.series_id or 0, [])]
            counts = count_tags([find_trailers(text, patterns) for text in texts])
        more_create, more_update, more_stale = _tags_changes(patch, counts, existing[patch.pk])
        create += more_create
        update += more_update
        stale += more_stale
    _tags_write(create, update, stale)
