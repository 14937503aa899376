"""Reads about checks: the latest per context, the combined state of a patch, the summaries
patch and series lists show."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q

from apps.checks.latest import check_state_combined, checks_latest
from apps.checks.models import Check
from apps.checks.sql import latest_state_counts

__all__ = ["check_state_combined", "checks_latest"]  # here too, for the readers of checks


def check_summaries(patch_ids: Iterable[int]) -> dict[int, dict]:
    """For each patch: its combined state and counts per state, in one query (the database
    keeps only the newest check of each context and user: checks_latest)."""
    ids = [int(pk) for pk in patch_ids]
    found = latest_state_counts(ids) if ids else {}
    summaries = {}
    for patch_id in ids:
        counts = found.get(patch_id, Counter())
        summaries[patch_id] = {
            "state": check_state_combined(counts),
            "counts": {state: counts.get(state, 0) for state, _ in Check.STATES},
            "total": sum(counts.values()),
        }
    return summaries


def check_states(patch_ids: Iterable[int]) -> dict[int, str]:
    """Each patch's combined check state (check_summaries), as patch lists show it."""
    return {pk: summary["state"] for pk, summary in check_summaries(patch_ids).items()}


def check_state_worst_by_series(series_ids: Iterable[int]) -> dict[int, str]:
    """For each series with checks: the worst state of any check of its patches (the series
    list's summary; every check counts, not only the latest of a context)."""
    worst: dict[int, set[str]] = defaultdict(set)
    rows = Check.objects.filter(patch__series__in=list(series_ids)).values_list(
        "patch__series_id", "state"
    )
    for series_id, state in rows:
        worst[series_id].add(state)
    order = (Check.FAIL, Check.WARNING, Check.PENDING, Check.SUCCESS)
    return {sid: next(s for s in order if s in states) for sid, states in worst.items()}


def checks_failing_q() -> Q:
    """A condition on patches: the latest check of some context (and user) failed
    (search: has:failed-checks; a failure fixed by a later success does not count)."""
    newer = Check.objects.filter(
        patch=OuterRef("patch"),
        context=OuterRef("context"),
        user=OuterRef("user"),
        date__gt=OuterRef("date"),
    )
    failing = Check.objects.filter(patch=OuterRef("pk"), state=Check.FAIL).exclude(Exists(newer))
    return Q(Exists(failing))
