"""The webhooks app's one fast path: a delivery's attempt log and its new state written
in one statement.

Every delivery ends by logging its attempt and changing its state, together. The
plain Django path (delivery._log_and_finish_orm) is BEGIN, INSERT, UPDATE, COMMIT:
four round trips and two compiled queries. Here it is one data-modifying CTE in
autocommit — one round trip, as atomic (a single statement), and the insert
happens only if the delivery still exists. Measured in-process on PostgreSQL
(150 deliveries to a loopback receiver, the 2-core machine shared and loaded),
the step's CPU went from 2.25 ms to 0.87 ms per delivery, and a whole
delivery's from 9.9 ms to 7.0 ms: the webhooks worker is CPU-bound in a burst
(docs/benchmarks.md, issue 21). PostgreSQL only (SQLite has no UPDATE inside WITH); elsewhere
the plain path runs. tests/webhooks/test_sql.py checks both write the same rows.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from apps.webhooks.models import Delivery, DeliveryAttempt


def available() -> bool:
    """Whether this database runs the fast path."""
    return connection.vendor == "postgresql"


def log_and_finish(delivery_id: int, attempt: dict[str, Any], updates: dict[str, Any]) -> bool:
    """Log an attempt of the delivery and update the delivery in one statement; False (and
    nothing written) if the delivery no longer exists."""
    q = connection.ops.quote_name
    deliveries, attempts = Delivery._meta, DeliveryAttempt._meta
    sets, set_params = [], []
    for name, value in updates.items():
        field = deliveries.get_field(name)
        sets.append(f"{q(field.column)} = %s")
        set_params.append(field.get_db_prep_save(value, connection))
    columns, values, value_params = [], [], []
    for name, value in attempt.items():
        field = attempts.get_field(name)
        columns.append(q(field.column))
        # INSERT ... SELECT infers no types from the target columns: say them.
        values.append(f"%s::{field.cast_db_type(connection)}")
        value_params.append(field.get_db_prep_save(value, connection))
    pk = q(deliveries.pk.column)
    link = q(attempts.get_field("delivery").column)
    sql = (
        f"WITH d AS (UPDATE {q(deliveries.db_table)} SET {', '.join(sets)} "
        f"WHERE {pk} = %s RETURNING {pk}) "
        f"INSERT INTO {q(attempts.db_table)} ({link}, {', '.join(columns)}) "
        f"SELECT d.{pk}, {', '.join(values)} FROM d"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*set_params, delivery_id, *value_params])
        return cursor.rowcount == 1
