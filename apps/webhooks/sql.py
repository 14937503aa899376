"""The webhooks app's fast paths: the three statements every delivery runs.

Deliveries are the webhooks worker's whole job, and in a burst it is CPU-bound,
mostly in the ORM building and compiling the same three statements again and
again. So they are written here once, and each has a test that it equals the
plain Django path (tests/webhooks/test_sql.py). Measured in-process on PostgreSQL
(150 deliveries to a loopback receiver, the 2-core machine shared and loaded),
a whole delivery_attempt took 9.9 ms of CPU with the ORM and 4.7 ms with these
three (docs/benchmarks.md, issue 21). PostgreSQL only; elsewhere the plain path runs.

delivery_pending: the pending delivery with its webhook, as one SELECT
(select_related) built into model instances with Model.from_db.

deliveries_pending, claim_many: the same for an event's whole fan-out at once (one
task per event: delivery.deliveries_attempt), so a hundred subscribers cost two
statements before their POSTs, not two hundred.

claim: the conditional update that takes a delivery (delivery_claim).

log_and_finish(_many): every delivery ends by logging its attempt and changing its state,
together. The plain Django path (delivery._log_and_finish_orm) is BEGIN, INSERT,
UPDATE, COMMIT: four round trips and two compiled queries. Here it is one data-modifying CTE in
autocommit — one round trip, as atomic (a single statement), and the insert
happens only if the delivery still exists: 2.25 -> 0.87 ms CPU per delivery.
(SQLite has no UPDATE inside WITH.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.options import Options

from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook


def available() -> bool:
    """Whether this database runs the fast path."""
    return connection.vendor == "postgresql"


def _field(meta: Options[Any], name: str) -> Field[Any, Any]:
    """The concrete field `name` (get_field's type also admits reverse relations)."""
    field = meta.get_field(name)
    assert isinstance(field, Field)
    return field


def _column(field: Field[Any, Any]) -> str:
    """The field's column; only non-concrete fields have none."""
    assert field.column is not None
    return field.column


def log_and_finish(delivery_id: int, attempt: dict[str, Any], updates: dict[str, Any]) -> bool:
    """Log an attempt of the delivery and update the delivery in one statement; False (and
    nothing written) if the delivery no longer exists."""
    return delivery_id in log_and_finish_many([(delivery_id, attempt, updates)])


def _typed_rows(
    meta: Options[Any], rows: list[tuple[int, dict[str, Any]]]
) -> tuple[str, list[Any]]:
    """VALUES rows (id, then the fields of the dicts, cast to their columns' types: VALUES
    infers no types from the columns they end in) and their parameters."""
    fields = [_field(meta, name) for name in rows[0][1]]
    cells = ", ".join(["%s::bigint", *(f"%s::{f.cast_db_type(connection)}" for f in fields)])
    params: list[Any] = []
    for pk, values in rows:
        params.append(pk)
        params.extend(
            f.get_db_prep_save(value, connection)
            for f, value in zip(fields, values.values(), strict=True)
        )
    return ", ".join([f"({cells})"] * len(rows)), params


def log_and_finish_many(items: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> set[int]:
    """log_and_finish for many deliveries in one statement (each item: delivery id, attempt,
    updates; every item's dicts have the same keys); the ids of those written."""
    if not items:
        return set()
    q = connection.ops.quote_name
    deliveries, attempts = Delivery._meta, DeliveryAttempt._meta
    update_names, attempt_names = list(items[0][2]), list(items[0][1])
    pk = q(_column(deliveries.pk))
    link = q(_column(_field(attempts, "delivery")))
    u_rows, u_params = _typed_rows(deliveries, [(i, u) for i, _, u in items])
    a_rows, a_params = _typed_rows(attempts, [(i, a) for i, a, _ in items])
    u_alias = ", ".join(f"u{n}" for n in range(len(update_names)))
    a_alias = ", ".join(f"a{n}" for n in range(len(attempt_names)))
    sets = ", ".join(
        f"{q(_column(_field(deliveries, name)))} = v.u{n}" for n, name in enumerate(update_names)
    )
    columns = ", ".join(q(_column(_field(attempts, name))) for name in attempt_names)
    sql = (
        f"WITH v (id, {u_alias}) AS (VALUES {u_rows}), "
        f"d AS (UPDATE {q(deliveries.db_table)} t SET {sets} FROM v "
        f"WHERE t.{pk} = v.id RETURNING t.{pk}) "
        f"INSERT INTO {q(attempts.db_table)} ({link}, {columns}) "
        f"SELECT d.{pk}, {', '.join(f'a.a{n}' for n in range(len(attempt_names)))} "
        f"FROM d INNER JOIN (VALUES {a_rows}) AS a (id, {a_alias}) ON a.id = d.{pk} "
        f"RETURNING {link}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*u_params, *a_params])
        return {pk_ for (pk_,) in cursor.fetchall()}


def _columns(model: type[Model]) -> list[Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def delivery_pending(delivery_id: int) -> Delivery | None:
    """The delivery if it is pending, with its webhook loaded."""
    return deliveries_pending([delivery_id]).get(delivery_id)


def deliveries_pending(delivery_ids: list[int]) -> dict[int, Delivery]:
    """Those of the deliveries that are pending, by id, with their webhooks loaded (one
    SELECT for an event's whole fan-out)."""
    q = connection.ops.quote_name
    deliveries, webhooks = _columns(Delivery), _columns(Webhook)
    select = [f"d.{q(_column(f))}" for f in deliveries] + [f"w.{q(_column(f))}" for f in webhooks]
    sql = (
        f"SELECT {', '.join(select)} FROM {q(Delivery._meta.db_table)} d "
        f"INNER JOIN {q(Webhook._meta.db_table)} w "
        f"ON w.{q(_column(Webhook._meta.pk))} = d.{q(_column(_field(Delivery._meta, 'webhook')))} "
        f"WHERE d.{q(_column(Delivery._meta.pk))} = ANY(%s) AND d.{q('status')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(delivery_ids), Delivery.PENDING])
        rows = cursor.fetchall()
    converters = [(i, f.get_db_converters(connection)) for i, f in enumerate(deliveries + webhooks)]
    found: dict[int, Delivery] = {}
    for fetched in rows:
        row = list(fetched)
        for index, field_converters in converters:
            for converter in field_converters:
                row[index] = converter(row[index], None, connection)
        delivery = Delivery.from_db(
            "default", [f.attname for f in deliveries], row[: len(deliveries)]
        )
        delivery.webhook = Webhook.from_db(
            "default", [f.attname for f in webhooks], row[len(deliveries) :]
        )
        found[delivery.pk] = delivery
    return found


def claim(seen: Delivery, now: datetime, due_by: datetime) -> bool:
    """Pending, due by due_by, and unchanged since `seen` -> running, claimed at now."""
    q = connection.ops.quote_name
    table = q(Delivery._meta.db_table)
    sql = (
        f"UPDATE {table} SET {q('status')} = %s, {q('claimed_at')} = %s "
        f"WHERE {q('id')} = %s AND {q('status')} = %s AND {q('next_attempt_at')} <= %s "
        f"AND {q('attempts')} = %s AND {q('give_up_at')} IS NOT DISTINCT FROM %s"
    )
    params: list[Any] = [Delivery.RUNNING, now, seen.pk, Delivery.PENDING, due_by, seen.attempts]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, seen.give_up_at])
        return cursor.rowcount == 1


def claim_many(seen: list[Delivery], now: datetime, due_by: datetime) -> set[int]:
    """claim for many deliveries in one statement; the ids of those taken."""
    if not seen:
        return set()
    q = connection.ops.quote_name
    table = q(Delivery._meta.db_table)
    rows = ", ".join(["(%s::bigint, %s::integer, %s::timestamptz)"] * len(seen))
    sql = (
        f"UPDATE {table} d SET {q('status')} = %s, {q('claimed_at')} = %s "
        f"FROM (VALUES {rows}) AS v(id, attempts, give_up_at) "
        f"WHERE d.{q('id')} = v.id AND d.{q('status')} = %s AND d.{q('next_attempt_at')} <= %s "
        f"AND d.{q('attempts')} = v.attempts "
        f"AND d.{q('give_up_at')} IS NOT DISTINCT FROM v.give_up_at "
        f"RETURNING d.{q('id')}"
    )
    values = [value for d in seen for value in (d.pk, d.attempts, d.give_up_at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [Delivery.RUNNING, now, *values, Delivery.PENDING, due_by])
        return {pk for (pk,) in cursor.fetchall()}
