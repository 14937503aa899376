"""Which checks count: the newest of each context and user, and their combined state."""

from __future__ import annotations

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
