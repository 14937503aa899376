"""Fast path: what is known of a mail's Message-ID and references (arrival.thread_lookup),
read by hand-written SQL on PostgreSQL.

Why: every mail the celery worker ingests asks it once, and the ORM's UNION of three
annotated querysets cost more CPU to build and compile than any other statement of the
worker: in-process on PostgreSQL, 1.9 ms a lookup through the ORM against 0.35 ms by
this statement (the same 400 lookups of the bench archive, docs/benchmarks.md, "The
live path"), about 10 % of a worker's CPU a mail. tests/mail/test_thread_sql.py asserts
both give the same rows.
"""

from __future__ import annotations

from django.db import connection

from apps.mail.models import AwaitedMessage, IncomingMail
from apps.patches.models import Cover, Patch
from apps.patches.sql import all_fields, model_rows, select_list
from apps.series.models import SeriesReference

MEMBER = "member"
ARRIVED = "arrived"

_THREAD_SQL = f"""
SELECT msgid, kind, series_id, mail_id, position
  FROM {AwaitedMessage._meta.db_table} WHERE project_id = %(project)s AND msgid = ANY(%(ids)s)
UNION ALL
SELECT msgid, '{MEMBER}', series_id, NULL, 0
  FROM {SeriesReference._meta.db_table} WHERE project_id = %(project)s AND msgid = ANY(%(refs)s)
UNION ALL
SELECT msgid, '{ARRIVED}', NULL, NULL, 0
  FROM {IncomingMail._meta.db_table} WHERE project_id = %(project)s AND msgid = ANY(%(refs)s)
"""


def fast_path() -> bool:
    return connection.vendor == "postgresql"


def thread_rows(project_id: int, msgid: str, refs: list[str]) -> list[tuple]:
    """(msgid, kind, series id, mail id, position) rows: the AwaitedMessage rows for msgid
    and refs, then refs that are series members (kind MEMBER) and refs that arrived
    (kind ARRIVED)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _THREAD_SQL, {"project": project_id, "ids": [msgid, *refs], "refs": list(refs)}
        )
        return cursor.fetchall()


# --- the patches and cover letters a reply's references name (replies.reply_parent) ----
#
# Why: a reply looked them up by one or two ORM queries, compiled each time (9,274 and
# 4,000 of them for the 20,000-message bench archive); this is one statement, prepared.
# tests/mail/test_parent_sql.py asserts both paths find the same parents.

_PATCH, _COVER = all_fields(Patch), all_fields(Cover)
_NAMED = (
    f"SELECT {select_list(((Patch, _PATCH, 'p'),))}, {', '.join(['NULL'] * len(_COVER))}"
    f" FROM {Patch._meta.db_table} p WHERE p.project_id = %(project)s AND p.msgid = ANY(%(ids)s)"
    " UNION ALL"
    f" SELECT {', '.join(['NULL'] * len(_PATCH))}, {select_list(((Cover, _COVER, 'c'),))}"
    f" FROM {Cover._meta.db_table} c WHERE c.project_id = %(project)s AND c.msgid = ANY(%(ids)s)"
)


def submissions_named(project_id: int, msgids: list[str]) -> tuple[list[Patch], list[Cover]]:
    """The project's patches and cover letters with these Message-IDs."""
    params = {"project": project_id, "ids": msgids}
    rows = model_rows(_NAMED, params, [(Patch, _PATCH), (Cover, _COVER)])
    patches = [patch for patch, _, _ in rows if patch is not None]
    return patches, [cover for _, cover, _ in rows if cover is not None]
