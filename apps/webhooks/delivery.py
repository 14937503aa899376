"""Sending deliveries: claim, sign, POST, log the attempt, then succeed, retry or give up.

A worker claims a delivery with a conditional update (PENDING and due -> RUNNING),
so a task that arrives twice sends once. Before claiming, it takes one of the
receiver host's slots (hostcap.py), so no host gets more than
WEBHOOK_HOST_CONCURRENCY deliveries at once and a slow one can't hold every
thread of the webhooks worker; when its POST ends, the slot goes to the next
delivery waiting in that host's line, sent by the same task (_hand_over); while it
waits for the receiver it holds no database connection. Retries are scheduled in the row
(next_attempt_at) and queued with a countdown when near; the periodic sweep
queues whatever is due and was not queued (far retries, a broker that was down)
and reclaims deliveries whose worker died mid-request.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from apps.api.serializers.events import event_to_dict
from apps.api.serializers.series import range_diff_event_summary
from apps.api.support import LATEST, ApiContext, api_base_for
from apps.events.models import Event
from apps.events.selectors import event_get
from apps.webhooks import hostcap, outbound, sql
from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook
from apps.webhooks.services import (
    PING,
    deliveries_enqueue,
    webhook_disable,
    webhook_signing_secrets,
)
from apps.webhooks.signing import request_headers

log = logging.getLogger(__name__)

JITTER = 0.1  # each retry delay varies by up to ±10% so failed receivers aren't hit in step
CLOCK_SLACK = timedelta(seconds=1)  # a countdown task may start a moment before its due time
COUNTDOWN_MAX = 600  # farther retries are queued by the sweep, not held by a worker
SWEEP_GRACE = timedelta(seconds=30)  # due this long and not queued recently: lost
REQUEUE_AFTER = timedelta(minutes=5)  # a queued task not run in this long is queued again
SWEEP_BATCH = 1000


def retry_delay(attempts: int, *, retry_after: float | None = None) -> float:
    """Seconds to wait after the given number of failed attempts (jittered, or Retry-After)."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    base = delays[min(attempts, len(delays)) - 1]
    if retry_after is not None:
        # Honour the receiver's wish, but never hammer it nor wait beyond the longest delay.
        return min(max(retry_after, 1.0), float(max(delays)))
    return base * random.uniform(1 - JITTER, 1 + JITTER)


# Every subscriber of an event gets the same body: serialize it once per worker process.
_BODY_CACHE: OrderedDict[int, tuple[float, str]] = OrderedDict()
_BODY_CACHE_LOCK = threading.Lock()
BODY_CACHE_SECONDS = 30
BODY_CACHE_SIZE = 256


def _event_body(event_id: int) -> str:
    now = time.monotonic()
    with _BODY_CACHE_LOCK:
        cached = _BODY_CACHE.get(event_id)
        if cached and now - cached[0] < BODY_CACHE_SECONDS:
            return cached[1]
    # The same serializer and loading as /api/events/ (latest version, absolute URLs).
    event = event_get(event_id)
    assert event is not None, "a delivery's event is deleted with it"
    payload = event_to_dict(event, base_url=settings.SITE_URL)
    if event.category == Event.SERIES_COMPLETED and event.series_id:
        _add_revision_changes(payload, event.series)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    with _BODY_CACHE_LOCK:
        _BODY_CACHE[event_id] = (now, body)
        while len(_BODY_CACHE) > BODY_CACHE_SIZE:
            _BODY_CACHE.popitem(last=False)
    return body


def _add_revision_changes(payload: dict, series) -> None:
    """A completed revision's webhook says what changed since the previous revision (the
    cached range-diff), so CI can skip the patches that did not change."""
    base = settings.SITE_URL.rstrip("/")
    ctx = ApiContext(version=LATEST, api_base=api_base_for(base, None), site_base=base)
    changes = range_diff_event_summary(series, ctx)
    if changes is not None:
        payload["payload"]["revision"] = changes


def delivery_body(delivery: Delivery) -> str:
    """The JSON body: the event as the latest /api/events/ shows it, or a ping."""
    if delivery.category == PING or delivery.event_id is None:
        webhook = delivery.webhook
        payload = {
            "category": PING,
            "date": timezone.now().isoformat(),
            "webhook": {
                "id": webhook.pk,
                "url": f"{settings.SITE_URL}/api/webhooks/{webhook.pk}/",
                "target_url": webhook.url,
            },
        }
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return _event_body(delivery.event_id)


def delivery_claim(delivery_id: int, now: datetime, *, seen: Delivery | None = None) -> bool:
    """Take a pending, due delivery for this worker; false if someone else has it or it's done
    (or, given the row as `seen` before, if it was attempted or redelivered since)."""
    if seen is not None and sql.available():
        return sql.claim(seen, now, now + CLOCK_SLACK)
    due = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.PENDING, next_attempt_at__lte=now + CLOCK_SLACK
    )
    if seen is not None:
        due = due.filter(attempts=seen.attempts, give_up_at=seen.give_up_at)
    return due.update(status=Delivery.RUNNING, claimed_at=now) == 1


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """Send one delivery once if it is due and unclaimed; returns it, or None if not claimed."""
    return deliveries_attempt(delivery_ids=[delivery_id]).get(delivery_id)


def deliveries_attempt(*, delivery_ids: list[int]) -> dict[int, Delivery]:
    """Send each of the deliveries once if it is due and unclaimed (an event's fan-out is one
    task: services.deliveries_enqueue), then those waiting for the slots they free; returns
    those sent, by id.

    They are read in one query and their hosts' slots taken in one round trip to Redis;
    a delivery whose host is busy joins the host's line and is left to the senders
    holding its slots. The rest go out together (_send_all).
    """
    # Read before the claim (its host decides whether it may go now); the claim then
    # checks the row is still as read. Those not pending are done, running elsewhere or gone.
    found = list(_pending(delivery_ids).values())
    slots = hostcap.slots_take([(hostcap.host_of(d.webhook.url), d.pk) for d in found])
    return _send_all([(d, slot) for d, slot in zip(found, slots, strict=True) if slot])


Ready = list[tuple[Delivery, hostcap.Slot]]  # deliveries to claim and send, with their slots


def _send_all(ready: Ready) -> dict[int, Delivery]:
    """Claim the deliveries and POST them at once on the sender threads; log each attempt
    here as its POST ends, and send the next delivery waiting in its host's line on the
    slot it frees, until those lines are empty.

    The sender threads only POST, so every receiver is reached before any attempt is
    logged, and they need no database connection; this thread logs, claims and signs in
    between, a batch of whatever ended together at a time, and hands its connection back
    whenever it has to wait (a hanging receiver holds a sender thread and its host's
    slot, never a connection).
    """
    done: dict[int, Delivery] = {}
    posts: dict[Future[_Sent], hostcap.Slot] = {}
    freed: list[hostcap.Slot] = []
    try:
        while ready or posts:
            freed = _start(ready, posts)
            ended = _ended(posts, block=not freed)
            try:
                done.update(_settle_many([future.result() for future in ended]))
            except Exception:  # as a celery worker would: log; the sweep reclaims them
                log.exception("webhook deliveries failed")
            freed += [posts.pop(future) for future in ended]
            ready = _hand_over(freed)
    except BaseException:
        wait(posts)  # the slots of POSTs in flight are given back once they end: the cap holds
        hostcap.slots_give_back([*(slot for _, slot in ready), *freed, *posts.values()])
        raise
    return done


def _start(ready: Ready, posts: dict[Future[_Sent], hostcap.Slot]) -> list[hostcap.Slot]:
    """Claim the deliveries (claim-once), sign them and start their POSTs, added to posts;
    returns the slots of those that do not go (sent by someone else, their webhook off)."""
    now = timezone.now()
    claimed = deliveries_claim([d for d, _ in ready], now)
    freed, requests = [], []
    for delivery, slot in ready:
        request = None
        if delivery.pk in claimed:
            delivery.status, delivery.claimed_at = Delivery.RUNNING, now
            request = _prepare(delivery)  # None: its webhook is off (failed, not sent)
        if request is None:
            freed.append(slot)
        else:
            requests.append((request, slot))
    # Every request signed first: the senders then start together, not as this thread
    # gets its turn between theirs. One POST alone, or no sender threads: in this thread.
    here = not settings.WEBHOOK_SENDERS or (len(requests) == 1 and not posts)
    for request, slot in requests:
        posts[_post_here(request) if here else _senders().submit(_post, request)] = slot
    return freed


def _post_here(request: _Request) -> Future[_Sent]:
    """The POST in this thread, as an ended future (its connection handed back first)."""
    _release_connection()
    future: Future[_Sent] = Future()
    try:
        future.set_result(_post(request))
    except Exception as exc:  # settled like a sender thread's
        future.set_exception(exc)
    return future


def _ended(posts: dict[Future[_Sent], hostcap.Slot], *, block: bool) -> list[Future[_Sent]]:
    """The POSTs that have ended; if none has and block, waits for one (the database
    connection handed back meanwhile)."""
    if not posts:
        return []
    ended, _ = wait(posts, timeout=0)
    if not ended and block:
        _release_connection()
        ended, _ = wait(posts, return_when=FIRST_COMPLETED)
    return list(ended)


def _hand_over(slots: list[hostcap.Slot]) -> Ready:
    """Each freed slot takes the next delivery waiting in its host's line, or is given back
    if nobody waits (one round trip for them all, one read): a waiting delivery is sent by
    the sender that freed its host's slot, never queued again as a task of its own."""
    ready: dict[int, tuple[Delivery, hostcap.Slot]] = {}
    while slots:
        passed = zip(hostcap.slots_pass(slots), slots, strict=True)
        taken = [(pk, slot) for pk, slot in passed if pk is not None]
        pending = _pending([pk for pk, _ in taken]) if taken else {}
        slots = []
        for pk, slot in taken:
            # Not pending: sent meanwhile or gone. Taken already: it waited in line twice.
            delivery = pending.pop(pk, None) if pk not in ready else None
            if delivery is not None and hostcap.host_of(delivery.webhook.url) == slot.host:
                ready[pk] = (delivery, slot)
                continue
            slots.append(slot)  # the slot goes on to the next in line
            if delivery is not None:  # its webhook moved to another host: that host's turn
                deliveries_enqueue([pk])
    return list(ready.values())


_senders_pool: ThreadPoolExecutor | None = None
_senders_lock = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    """The process's sender threads: WEBHOOK_SENDERS POSTs of a fan-out in flight at once."""
    global _senders_pool
    with _senders_lock:
        if _senders_pool is None:
            _senders_pool = ThreadPoolExecutor(
                max_workers=settings.WEBHOOK_SENDERS, thread_name_prefix="webhook-sender"
            )
        return _senders_pool


def deliveries_claim(deliveries: list[Delivery], now: datetime) -> set[int]:
    """delivery_claim for many deliveries as read before (`seen`); the ids taken."""
    if sql.available() and len(deliveries) > 1:
        return sql.claim_many(deliveries, now, now + CLOCK_SLACK)
    return {d.pk for d in deliveries if delivery_claim(d.pk, now, seen=d)}


def _pending(delivery_ids: list[int]) -> dict[int, Delivery]:
    if sql.available():
        return sql.deliveries_pending(delivery_ids)
    return {
        d.pk: d
        for d in Delivery.objects.select_related("webhook").filter(
            pk__in=delivery_ids, status=Delivery.PENDING
        )
    }


def _release_connection() -> None:
    """Hand the database connection back to the pool for the network wait, so a slow
    receiver holds a thread but no connection (without a pool, keep it: reconnecting
    would cost more than it saves)."""
    if "pool" in connection.settings_dict.get("OPTIONS", {}) and not connection.in_atomic_block:
        connection.close()


@dataclass
class _Request:
    """A claimed delivery ready to go: its signed request."""

    delivery: Delivery
    body: bytes
    headers: dict[str, str]
    fresh_body: bool


@dataclass
class _Sent:
    """What came of a request's POST."""

    request: _Request
    started: datetime
    outcome: outbound.Outcome


def _prepare(delivery: Delivery) -> _Request | None:
    """Sign a claimed delivery's request; None if its webhook is off (it is failed)."""
    webhook = delivery.webhook
    if not webhook.active:
        _finish(delivery, Delivery.FAILED, error="The webhook is disabled.")
        return None
    fresh_body = not delivery.body
    if fresh_body:
        delivery.body = delivery_body(delivery)
    body = delivery.body.encode()
    headers = request_headers(
        secrets=webhook_signing_secrets(webhook),
        msg_id=delivery.message_id,
        timestamp=int(time.time()),
        body=body,
        category=delivery.category,
    )
    return _Request(delivery, body, headers, fresh_body)


def _post(request: _Request) -> _Sent:
    """The POST alone: no database (sender threads run only this)."""
    started = timezone.now()
    outcome = outbound.post(
        request.delivery.webhook.url, body=request.body, headers=request.headers
    )
    return _Sent(request, started, outcome)


def _settle(sent: _Sent) -> Delivery | None:
    """After the POST: log the attempt and succeed, schedule a retry or give up."""
    return _settle_many([sent]).get(sent.request.delivery.pk)


def _settle_many(sents: list[_Sent]) -> dict[int, Delivery]:
    """_settle for POSTs that ended together: their attempts logged in one statement per
    kind of outcome; returns the deliveries written (not those deleted meanwhile)."""
    decided = [(sent, *_decide(sent)) for sent in sents]
    groups: dict[tuple[str, ...], list[tuple[_Sent, dict, dict]]] = {}
    for sent, attempt, updates, _ in decided:
        groups.setdefault(tuple(updates), []).append((sent, attempt, updates))
    written: set[int] = set()
    for group in groups.values():
        if sql.available():
            written |= sql.log_and_finish_many(
                [(s.request.delivery.pk, attempt, updates) for s, attempt, updates in group]
            )
        else:
            written |= {
                s.request.delivery.pk
                for s, attempt, updates in group
                if _log_and_finish_orm(s.request.delivery, attempt, updates)
            }
    done: dict[int, Delivery] = {}
    for sent, _, updates, delay in decided:
        delivery = sent.request.delivery
        if delivery.pk not in written:
            log.info("delivery %s vanished while it was being sent", delivery.pk)
            continue
        for key, value in updates.items():
            setattr(delivery, key, value)
        if delivery.status == Delivery.PENDING and delivery.enqueued_at is not None:
            deliveries_enqueue([delivery.pk], countdown=delay)
        done[delivery.pk] = delivery
    return done


def _decide(sent: _Sent) -> tuple[dict, dict, float | None]:
    """What a POST's outcome makes of its delivery: (the attempt to log, the delivery's
    updates, the retry's delay if one is queued now)."""
    delivery, outcome = sent.request.delivery, sent.outcome
    webhook = delivery.webhook
    delivery.attempts += 1
    now = timezone.now()
    delay = None
    if outcome.ok:
        result: dict = {"status": Delivery.SUCCEEDED, "delivered_at": now}
        if webhook.failing_since is not None:
            Webhook.objects.filter(pk=webhook.pk).update(failing_since=None)
    else:
        _webhook_failed(webhook, outcome, now)
        if not outcome.permanent:
            delay = retry_delay(delivery.attempts, retry_after=outcome.retry_after)
        due = now + timedelta(seconds=delay) if delay is not None else None
        if due is None or (delivery.give_up_at and due > delivery.give_up_at) or not webhook.active:
            result = {"status": Delivery.FAILED, "error": outcome.error}
        else:
            assert delay is not None  # due is set only from a delay
            near = delay <= COUNTDOWN_MAX
            result = {
                "status": Delivery.PENDING,
                "error": outcome.error,
                "next_attempt_at": due,
                "enqueued_at": due if near else None,
            }
    if sent.request.fresh_body:
        result["body"] = delivery.body
    attempt = {
        "number": delivery.attempts,
        "started": sent.started,
        "duration_ms": outcome.duration_ms,
        "request_headers": sent.request.headers,
        "request_body": delivery.body,
        "response_status": outcome.status,
        "response_headers": outcome.headers,
        "response_body": outcome.body,
        "error": outcome.error,
    }
    updates = _updates(delivery, result.pop("status"), code=outcome.status, **result)
    queued = delay if result.get("enqueued_at") is not None else None
    return attempt, updates, queued


def _log_and_finish_orm(delivery: Delivery, attempt: dict, updates: dict) -> bool:
    """The plain path of sql.log_and_finish."""
    try:
        with transaction.atomic():
            DeliveryAttempt.objects.create(delivery=delivery, **attempt)
            if not Delivery.objects.filter(pk=delivery.pk).update(**updates):
                raise IntegrityError("the delivery no longer exists")
    except IntegrityError:
        return False
    return True


def _updates(
    delivery: Delivery, status: str, *, code: int | None = None, error: str = "", **fields
) -> dict:
    return {
        "status": status,
        "attempts": delivery.attempts,
        "last_status": code,
        "last_error": error[:255],
        **fields,
    }


def _finish(delivery: Delivery, status: str, **kwargs) -> int:
    updates = _updates(delivery, status, **kwargs)
    updated = Delivery.objects.filter(pk=delivery.pk).update(**updates)
    for key, value in updates.items():
        setattr(delivery, key, value)
    return updated


def _webhook_failed(webhook: Webhook, outcome: outbound.Outcome, now: datetime) -> None:
    if outcome.status == 410:
        if webhook_disable(webhook=webhook, reason="The receiver answered 410 Gone."):
            _mail_owner(webhook)
        return
    if webhook.failing_since is None:
        Webhook.objects.filter(pk=webhook.pk, failing_since__isnull=True).update(failing_since=now)
        return
    window = timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    if now - webhook.failing_since >= window:
        days = settings.WEBHOOK_RETRY_WINDOW_SECONDS / 86400
        reason = f"Every delivery failed for {days:g} days (last error: {outcome.error})"
        if webhook_disable(webhook=webhook, reason=reason):
            _mail_owner(webhook)


def _mail_owner(webhook: Webhook) -> None:
    owner = webhook.owner
    if not owner.email:
        return
    link = settings.SITE_URL + reverse("webhook-detail", args=[webhook.pk])
    try:
        send_mail(
            subject=f"Your Patchwork webhook to {webhook.url} was disabled",
            message=(
                f"Hello {owner.get_username()},\n\n"
                f"Patchwork stopped sending events to your webhook\n\n    {webhook.url}\n\n"
                f"because: {webhook.disabled_reason}\n\n"
                f"Its delivery log shows every attempt; once the receiver works again,\n"
                f"enable the webhook and redeliver what it missed:\n\n    {link}\n"
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[owner.email],
        )
    except Exception:  # the webhook is off either way; the page says why
        log.warning("could not mail the owner of webhook %s", webhook.pk, exc_info=True)


def deliveries_requeue(*, now: datetime | None = None) -> int:
    """Reclaim deliveries whose worker died and queue every due one not queued lately."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 2 + 60)
    Delivery.objects.filter(status=Delivery.RUNNING, claimed_at__lt=now - lease).update(
        status=Delivery.PENDING, next_attempt_at=now, enqueued_at=None
    )
    # Never queued (far retries, reclaimed): due now. Queued: due a while and not run.
    lost = Q(enqueued_at__isnull=True, next_attempt_at__lte=now) | Q(
        next_attempt_at__lte=now - SWEEP_GRACE
    )
    with transaction.atomic():
        due = list(
            Delivery.objects.filter(lost, status=Delivery.PENDING)
            .exclude(enqueued_at__gt=now - REQUEUE_AFTER)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:SWEEP_BATCH]
        )
        Delivery.objects.filter(pk__in=due).update(enqueued_at=now)
    deliveries_enqueue(due)
    return len(due)


def delivery_log_prune(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Delete finished deliveries and attempts older than WEBHOOK_LOG_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    removed = 0
    # In batches, so a big backlog never holds locks or memory for long.
    for model, old in (
        (DeliveryAttempt, Q(started__lt=cutoff)),
        (Delivery, Q(created__lt=cutoff, status__in=[Delivery.SUCCEEDED, Delivery.FAILED])),
    ):
        while ids := list(model.objects.filter(old).values_list("pk", flat=True)[:batch]):
            model.objects.filter(pk__in=ids).delete()
            removed += len(ids)
    return removed
