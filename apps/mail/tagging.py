"""Tag counts (Acked-by, Reviewed-by, ...) on patches, from the patch and its comments."""

from __future__ import annotations

from collections import Counter

from apps.mail.parse.tags import count_tags, find_trailers
from apps.patches.models import Patch, PatchTag
from apps.projects.models import Tag


def tag_patterns() -> dict[int, str]:
    return dict(Tag.objects.values_list("pk", "pattern"))


def patch_tags_set(*, patch: Patch, counts: Counter, existing: dict[int, PatchTag] | None = None):
    """Make the patch's PatchTag rows say exactly counts (zero counts have no row)."""
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


def patch_tags_refresh(*, patch: Patch, patterns: dict[int, str] | None = None) -> Counter:
    """Recount a patch's tags from its commit message and every comment on it."""
    patterns = tag_patterns() if patterns is None else patterns
    counts: Counter = Counter()
    if patch.project.use_tags and patterns:
        sets = [find_trailers(patch.content, patterns)]
        sets += [
            find_trailers(content, patterns)
            for content in patch.comments.values_list("content", flat=True)
        ]
        counts = count_tags(sets)
    patch_tags_set(patch=patch, counts=counts)
    return counts
