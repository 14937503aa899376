"""Counting the SQL statements a process sends, whatever code sends them."""

from __future__ import annotations

COUNT = {"statements": 0}


def _count(execute, sql, params, many, context):
    COUNT["statements"] += 1
    return execute(sql, params, many, context)


def install() -> None:
    """Count every statement of this thread's default connection from now on."""
    from django.db import connection

    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


def statements() -> int:
    return COUNT["statements"]
