"""Fast path of the patch page's checks (why, and how it is tested: apps/patches/sql.py)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.checks.models import Check
from apps.checks.selectors import checks_latest
from apps.patches.sql import fast_path, model_rows, select_list

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
    user = get_user_model()
    columns = select_list(((Check, _CHECK, "c"), (user, _USER, "u")))
    sql = (
        f"SELECT {columns} FROM {Check._meta.db_table} c"
        f" JOIN {user._meta.db_table} u ON u.id = c.user_id"
        " WHERE c.patch_id = %s ORDER BY c.date, c.id"
    )
    checks = []
    for check, check_user, _ in model_rows(sql, [patch_id], [(Check, _CHECK), (user, _USER)]):
        check.user = check_user
        checks.append(check)
    return checks_latest(checks)
