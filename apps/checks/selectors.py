"""Reads about checks: the latest per context and the combined state of a patch."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from apps.checks.models import Check


def checks_latest(checks: Iterable[Check]) -> list[Check]:
    """Only the newest check for each (context, user) counts."""
    latest: dict[tuple[str, int], Check] = {}
    for check in sorted(checks, key=lambda c: (c.date, c.id)):
        latest[(check.context, check.user_id)] = check
    return sorted(latest.values(), key=lambda c: (c.date, c.id))


def check_state_combined(states: Iterable[str]) -> str:
    """fail if any failed, else warning, else pending (also for none), else success."""
    states = set(states)
    if Check.FAIL in states:
        return Check.FAIL
    if Check.WARNING in states:
        return Check.WARNING
    if not states or Check.PENDING in states:
        return Check.PENDING
    return Check.SUCCESS


def check_summaries(patch_ids: Iterable[int]) -> dict[int, dict]:
    """For each patch: its combined state and counts per state, in one query."""
    by_patch: dict[int, list[Check]] = defaultdict(list)
    rows = Check.objects.filter(patch_id__in=list(patch_ids)).only(
        "id", "patch_id", "user_id", "context", "state", "date"
    )
    for check in rows:
        by_patch[check.patch_id].append(check)
    summaries = {}
    for patch_id in patch_ids:
        latest = checks_latest(by_patch.get(patch_id, []))
        counts = Counter(c.state for c in latest)
        summaries[patch_id] = {
            "state": check_state_combined(counts),
            "counts": {state: counts.get(state, 0) for state, _ in Check.STATES},
            "total": len(latest),
        }
    return summaries
