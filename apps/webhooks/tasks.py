"""Celery tasks: they take ids and call one function in delivery.py.

`webhooks.deliver` goes to its own queue, `webhooks` (CELERY_TASK_ROUTES), served by
its own process type: `celery -A config worker -Q webhooks --pool=threads
--concurrency=50`. It carries an event's whole fan-out (deliveries_send), whose
POSTs go out together on the process's sender threads (delivery.deliveries_attempt).
A delivery is a network wait of milliseconds to seconds around a few milliseconds
of work, so one process with dozens of threads keeps dozens of POSTs in flight,
where the prefork worker holds a whole process per request.

Why a thread pool of celery, and not gevent or an asyncio dispatcher: the task
stays the one the outbox already feeds (the same queueing on commit, claim-once,
acks-late redelivery, the sweep, countdown retries), and delivery.py stays plain
synchronous Django — threads need no monkey-patching of psycopg and the rest of
the process (gevent), and no second delivery engine with its own queue reader
(asyncio). Python's threads release the GIL while they wait on sockets, which is
all these threads do most of the time; the CPU part is small, and more of it is
bought by running more webhooks processes. The host cap (hostcap.py) keeps a slow
receiver from holding more than WEBHOOK_HOST_CONCURRENCY of those threads, and no
thread holds a pooled database connection while it waits for a receiver.

services.deliveries_enqueue reaches the `deliver` task through deliveries_send, which
WebhooksConfig.ready connects: this module imports services and delivery, never the
other way.
"""

from __future__ import annotations

from celery import shared_task

from apps.webhooks import delivery


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(delivery_ids: int | list[int]) -> None:
    """Send deliveries (those still due that nobody else has): one id, or an event's
    whole fan-out; then, on the slots they free, those waiting in their hosts' lines."""
    ids = delivery_ids if isinstance(delivery_ids, list) else [delivery_ids]
    delivery.deliveries_attempt(delivery_ids=[int(pk) for pk in ids])


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    """Queue due deliveries whose task was lost; reclaim those of dead workers."""
    return delivery.deliveries_requeue()


@shared_task(name="webhooks.prune_log", ignore_result=True)
def prune_log() -> int:
    """Delete the delivery log older than WEBHOOK_LOG_RETENTION_DAYS."""
    return delivery.delivery_log_prune()


BATCH = 100  # ids per task: an event's fan-out to a hundred subscribers is one message


def deliveries_send(delivery_ids: list[int], countdown: float | None) -> None:
    """Queue `deliver` tasks for the ids, up to BATCH per task, over one broker connection.

    One message per delivery cost ~3 ms each to publish on the loaded bench machine
    (a Redis round trip apiece): 100 subscribers were queued ~300-500 ms after the
    commit, most of the old 1.35 s p95 (docs/benchmarks.md, issue 21)."""
    batches = [delivery_ids[i : i + BATCH] for i in range(0, len(delivery_ids), BATCH)]
    with deliver.app.producer_or_acquire() as producer:
        for batch in batches:
            deliver.apply_async(
                (batch if len(batch) > 1 else batch[0],),
                countdown=countdown,
                producer=producer,
                retry=True,
                retry_policy={"max_retries": 1},
            )
