"""Range-diffs of revisions: which earlier revision to compare with, computing and caching."""

from __future__ import annotations

import hashlib
import re

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from apps.patches.mbox import commit_message, trailers_by_patch
from apps.patches.models import Patch
from apps.series.models import RangeDiff, Series
from apps.series.rangediff.compare import CHANGED, NEW, compare
from apps.series.rangediff.synthetic import PatchText

# "[PATCH v2 3/5] " and "[v2,3/5] " in front of a name: not part of the commit subject.
PREFIXES_RE = re.compile(r"^(\s*\[[^\]]*\]\s*)+")
# How far back a chain of revisions is followed.
MAX_CHAIN = 100


class RangeDiffError(ValueError):
    """The series asked to compare with is not an earlier revision of this one."""

    status = 400


class NoPreviousRevision(RangeDiffError):
    """The series rerolls nothing: there is nothing to compare it with."""

    status = 404


def range_diff_chain(series: Series) -> list[Series]:
    """The earlier revisions of a series, the previous one first (one query each)."""
    chain: list[Series] = []
    seen = {series.pk}
    current = series
    while current.previous_revision_id and len(chain) < MAX_CHAIN:
        if current.previous_revision_id in seen:
            break
        current = Series.objects.select_related("project").get(pk=current.previous_revision_id)
        seen.add(current.pk)
        chain.append(current)
    return chain


def range_diff_against(series: Series, against: str | None) -> Series:
    """The revision to compare series with: its previous one, or the earlier one named."""
    chain = range_diff_chain(series)
    if not chain:
        raise NoPreviousRevision(f"Series {series.pk} has no previous revision.")
    if against in (None, ""):
        return chain[0]
    if not str(against).isdigit():
        raise RangeDiffError(f"against must be a series id, not {against!r}.")
    for earlier in chain:
        if earlier.pk == int(str(against)):
            return earlier
    raise RangeDiffError(f"Series {against} is not an earlier revision of series {series.pk}.")


def _patches(series: Series) -> list[Patch]:
    return list(
        Patch.objects.filter(series=series)
        .select_related("submitter")
        .order_by("number", "date", "id")
    )


def _fingerprint(series: Series, against: Series) -> str:
    """What a comparison is made of: the patches and how many comments each has."""
    rows = (
        Patch.objects.filter(series_id__in=[series.pk, against.pk])
        .annotate(replies=Count("comments"))
        .order_by("series_id", "number", "date", "id")
        .values_list("series_id", "id", "number", "msgid", "replies")
    )
    covers = (
        Series.objects.filter(pk__in=[series.pk, against.pk])
        .annotate(replies=Count("cover__comments"))
        .order_by("pk")
        .values_list("pk", "replies")
    )
    text = repr((series.pk, against.pk, list(rows), list(covers)))
    return hashlib.sha256(text.encode()).hexdigest()


def _patch_texts(patches: list[Patch]) -> list[PatchText]:
    trailers = trailers_by_patch([p.pk for p in patches])
    texts = []
    for patch in patches:
        message, _notes = commit_message(patch.content, trailers.get(patch.pk, []))
        texts.append(
            PatchText(
                subject=PREFIXES_RE.sub("", patch.name),
                message=message,
                author_name=patch.submitter.name or "",
                author_email=patch.submitter.email,
                timestamp=int(patch.date.timestamp()),
                diff=patch.diff or "",
            )
        )
    return texts


def range_diff_compute(*, series: Series, against: Series) -> RangeDiff:
    """Compare two revisions now and store the result (replacing any earlier one)."""
    fingerprint = _fingerprint(series, against)
    old, new = _patches(against), _patches(series)
    result = compare(_patch_texts(old), _patch_texts(new))
    entries = []
    for entry in result.entries:
        data = entry.as_dict()
        for side, patches in (("old", old), ("new", new)):
            index = data[side]
            patch = patches[index - 1] if index else None
            data[f"{side}_id"] = patch.pk if patch else None
            data[f"{side}_name"] = patch.name if patch else None
        entries.append(data)
    values = {
        "fingerprint": fingerprint,
        "method": result.method,
        "entries": entries,
        "text": result.text,
        "computed_at": timezone.now(),
    }
    try:
        with transaction.atomic():
            row, _ = RangeDiff.objects.update_or_create(
                series=series, against=against, defaults=values
            )
    except IntegrityError:  # computed by another worker meanwhile: keep ours
        row = RangeDiff.objects.get(series=series, against=against)
        for name, value in values.items():
            setattr(row, name, value)
        row.save(update_fields=list(values))
    return row


def range_diff_get(*, series: Series, against: Series, refresh: bool = False) -> RangeDiff:
    """The stored comparison of two revisions, computed first if missing or stale."""
    if not refresh:
        row = RangeDiff.objects.filter(series=series, against=against).first()
        if row is not None and row.fingerprint == _fingerprint(series, against):
            return row
    return range_diff_compute(series=series, against=against)


def range_diff_summary(row: RangeDiff, *, series: Series, against: Series) -> dict:
    """Counts a list or a CI needs: how many patches changed since the earlier revision."""
    counts = {"changed": 0, "new": 0, "dropped": 0, "unchanged": 0}
    unchanged_ids = []
    for entry in row.entries:
        counts[entry["status"]] += 1
        if entry["status"] not in (CHANGED, NEW) and entry["new_id"]:
            unchanged_ids.append(entry["new_id"])
    total = sum(1 for entry in row.entries if entry["new"])
    return {
        "version": series.version,
        "previous_version": against.version,
        "patches": total,
        "changed": counts["changed"] + counts["new"],
        "counts": counts,
        "unchanged_patch_ids": unchanged_ids,
        "method": row.method,
    }


def summary_sentence(summary: dict) -> str:
    """'v3: 2 of 5 patches changed since v2'."""
    noun = "patch" if summary["patches"] == 1 else "patches"
    return (
        f"v{summary['version']}: {summary['changed']} of {summary['patches']} {noun} "
        f"changed since v{summary['previous_version']}"
    )


def range_diff_sentences(series: list[Series]) -> dict[int, str]:
    """The sentence of each series' stored range-diff against its previous revision, by id
    (one query; nothing is computed: a series not compared yet has none)."""
    pairs = {s.pk: s.previous_revision_id for s in series if s.previous_revision_id}
    if not pairs:
        return {}
    rows = RangeDiff.objects.filter(series_id__in=list(pairs)).select_related("series", "against")
    return {
        row.series_id: summary_sentence(
            range_diff_summary(row, series=row.series, against=row.against)
        )
        for row in rows
        if pairs.get(row.series_id) == row.against_id
    }
