"""Fast paths of checks: the patch page's checks (why, and how it is tested:
apps/patches/sql.py), and the latest check states counted for patch lists."""

from __future__ import annotations

from collections import Counter, defaultdict

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber

from apps.checks.latest import checks_latest
from apps.checks.models import Check
from apps.patches.selectors import ids_in, int_array
from apps.patches.sql import Read, fast_path, read, select_list

_CHECK = ("id", "patch_id", "user_id", "date", "state", "target_url", "description", "context")
_USER = ("id", "username")


def checks_for_page(patch_id: int, *, fast: bool | None = None) -> list[Check]:
    """The latest check of each (context, user) of a patch, each with its user's name."""
    if not (fast_path() if fast is None else fast):
        return checks_latest(
            Check.objects.filter(patch_id=patch_id)
            .select_related("user")
            .only(*_CHECK, "user__username")
        )
    return read(checks_read(patch_id))


def checks_read(patch_id: int) -> Read:
    """checks_for_page's statement (fast path), for apps.patches.sql.read_together."""
    user = get_user_model()
    columns = select_list(((Check, _CHECK, "c"), (user, _USER, "u")))
    sql = (
        f"SELECT {columns} FROM {Check._meta.db_table} c"
        f" JOIN {user._meta.db_table} u ON u.id = c.user_id"
        " WHERE c.patch_id = %s ORDER BY c.date, c.id"
    )
    return Read(sql, [patch_id], [(Check, _CHECK), (user, _USER)], _latest)


def _latest(rows: list[list]) -> list[Check]:
    checks = []
    for check, check_user, _ in rows:
        check.user = check_user
        checks.append(check)
    return checks_latest(checks)


# --- the latest check states of many patches, counted -----------------------------------
#
# Why: every REST patch read (list, detail, search) and the HTML list show each patch's
# check summary. Built with the ORM (a window function filtered on its rank), the query
# costs about 5 M instructions of Python a request to build and compile, whatever the
# number of patches: REST patch detail 13.1 M instructions with this statement against
# 18.4 M with the ORM's (callgrind, bench/request_cost.py, docs/benchmarks.md, issue 20),
# REST patches (100) 74.3 M against 80.5 M. tests/checks/test_check_sql.py asserts both
# give the same counts.

_LATEST_STATES = (
    "SELECT patch_id, state, COUNT(*) FROM ("
    " SELECT patch_id, state, ROW_NUMBER() OVER (PARTITION BY patch_id, context, user_id"
    " ORDER BY date DESC, id DESC) AS latest"
    f" FROM {Check._meta.db_table} WHERE patch_id = ANY(%s::bigint[])) checks"
    " WHERE latest = 1 GROUP BY patch_id, state"
)


def latest_state_counts(patch_ids: list[int], *, fast: bool | None = None) -> dict[int, Counter]:
    """For each patch with checks: how many of its latest checks (the newest of each
    context and user) are in each state, counted in one query."""
    found: dict[int, Counter[str]] = defaultdict(Counter)
    if not (fast_path() if fast is None else fast):
        newest_first = Window(
            RowNumber(),
            partition_by=[F("patch_id"), F("context"), F("user_id")],
            order_by=[F("date").desc(), F("id").desc()],
        )
        latest = (
            Check.objects.filter(ids_in("patch_id", patch_ids))
            .annotate(rank=newest_first)
            .filter(rank=1)
            .values_list("patch_id", "state")
        )
        for patch_id, state in latest:
            found[patch_id][state] += 1
        return found
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_STATES, [int_array(patch_ids)])
        for patch_id, state, count in cursor.fetchall():
            found[patch_id][state] = count
    return found
