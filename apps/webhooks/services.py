"""Webhook subscriptions (create, change, rotate, ping, delete), redelivery and the outbox.

Delivery itself (claiming, sending, retrying, sweeping) is in apps/webhooks/delivery.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.events.models import Event
from apps.projects.models import Project
from apps.webhooks.models import Delivery, Webhook, new_secret
from apps.webhooks.outbound import TargetRefused, url_check

log = logging.getLogger(__name__)

CATEGORIES = [value for value, _ in Event.CATEGORIES]
PING = "ping"
DEFAULT_SECRET_OVERLAP = timedelta(hours=24)
MAX_SECRET_OVERLAP = timedelta(days=7)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# --- permissions --------------------------------------------------------------


def webhook_check_can_manage(user, webhook: Webhook) -> bool:
    """Only the owner and admins may see or change a webhook."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or webhook.owner_id == user.pk


# --- validation -----------------------------------------------------------------


def _clean_url(url: str, errors: dict[str, list[str]]) -> str:
    url = (url or "").strip()
    if not url:
        errors["url"] = ["This field is required."]
    elif len(url) > 2000:
        errors["url"] = ["Ensure this field has no more than 2000 characters."]
    else:
        try:
            url_check(url)
        except TargetRefused as exc:
            errors["url"] = [str(exc)]
    return url


def _clean_categories(categories: Iterable[str], errors: dict[str, list[str]]) -> list[str]:
    wanted = set(categories or ())
    unknown = sorted(wanted - set(CATEGORIES))
    if unknown:
        errors["categories"] = [
            f"Unknown event categories: {', '.join(unknown)}. Choose from: {', '.join(CATEGORIES)}."
        ]
    # Canonical order; all categories selected is the same as none selected.
    cleaned = [c for c in CATEGORIES if c in wanted]
    return [] if len(cleaned) == len(CATEGORIES) else cleaned


def _clean_description(description: str, errors: dict[str, list[str]]) -> str:
    description = (description or "").strip()
    if len(description) > 255:
        errors["description"] = ["Ensure this field has no more than 255 characters."]
    return description


# --- subscriptions ---------------------------------------------------------------


@transaction.atomic
def webhook_create(
    *,
    owner: User,
    url: str,
    projects: Iterable[Project] = (),
    categories: Iterable[str] = (),
    description: str = "",
    active: bool = True,
) -> tuple[Webhook, str]:
    """Subscribe url to events; returns the webhook and its secret (shown only now) and pings it."""
    errors: dict[str, list[str]] = {}
    url = _clean_url(url, errors)
    categories = _clean_categories(categories, errors)
    description = _clean_description(description, errors)
    if errors:
        raise ValidationError(errors)
    webhook = Webhook.objects.create(
        owner=owner, url=url, categories=categories, description=description, active=active
    )
    webhook.projects.set(list(projects))
    if active:
        webhook_ping(webhook=webhook)
    return webhook, webhook.secret


@transaction.atomic
def webhook_update(
    *,
    webhook: Webhook,
    url: str | Any = UNSET,
    projects: Iterable[Project] | Any = UNSET,
    categories: Iterable[str] | Any = UNSET,
    description: str | Any = UNSET,
    active: bool | Any = UNSET,
) -> Webhook:
    """Change a webhook; turning it back on clears its failure record."""
    errors: dict[str, list[str]] = {}
    changed: list[str] = []
    if url is not UNSET:
        webhook.url = _clean_url(url, errors)
        changed.append("url")
    if categories is not UNSET:
        webhook.categories = _clean_categories(categories, errors)
        changed.append("categories")
    if description is not UNSET:
        webhook.description = _clean_description(description, errors)
        changed.append("description")
    if errors:
        raise ValidationError(errors)
    if active is not UNSET and bool(active) != webhook.active:
        webhook.active = bool(active)
        webhook.failing_since = None
        webhook.disabled_reason = ""
        changed += ["active", "failing_since", "disabled_reason"]
        if not webhook.active:
            _deliveries_abandon(webhook, "The webhook was disabled by its owner.")
    if changed:
        webhook.save(update_fields=changed)
    if projects is not UNSET:
        webhook.projects.set(list(projects))
    return webhook


def webhook_signing_secrets(webhook: Webhook, now=None) -> list[str]:
    """The secrets that sign a request now: the current one, and the previous during overlap."""
    now = now or timezone.now()
    found = [webhook.secret]
    if (
        webhook.previous_secret
        and webhook.previous_secret_expires
        and webhook.previous_secret_expires > now
    ):
        found.append(webhook.previous_secret)
    return found


@transaction.atomic
def webhook_rotate_secret(*, webhook: Webhook, overlap: timedelta = DEFAULT_SECRET_OVERLAP) -> str:
    """Give the webhook a new secret; the old one keeps signing for the overlap. Returns the new one."""
    if overlap < timedelta(0) or overlap > MAX_SECRET_OVERLAP:
        raise ValidationError(
            {
                "overlap_hours": [
                    f"Choose an overlap from 0 to {MAX_SECRET_OVERLAP.days * 24} hours."
                ]
            }
        )
    webhook = Webhook.objects.select_for_update().get(pk=webhook.pk)
    webhook.previous_secret = webhook.secret if overlap else ""
    webhook.previous_secret_expires = timezone.now() + overlap if overlap else None
    webhook.secret = new_secret()
    webhook.save(update_fields=["secret", "previous_secret", "previous_secret_expires"])
    return webhook.secret


def webhook_ping(*, webhook: Webhook) -> Delivery:
    """Queue a ping delivery to the webhook (sent after commit)."""
    if not webhook.active:
        raise ValidationError({"active": ["Enable the webhook before pinging it."]})
    now = timezone.now()
    delivery = Delivery.objects.create(
        webhook=webhook,
        category=PING,
        created=now,
        next_attempt_at=now,
        enqueued_at=now,
        give_up_at=now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS),
    )
    transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
    return delivery


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete a webhook with its delivery log."""
    webhook.delete()


def webhook_disable(*, webhook: Webhook, reason: str) -> bool:
    """Turn a webhook off for a reason given to its owner; false if it was already off."""
    with transaction.atomic():
        turned_off = Webhook.objects.filter(pk=webhook.pk, active=True).update(
            active=False, disabled_reason=reason[:255]
        )
        if turned_off:
            _deliveries_abandon(webhook, f"The webhook was disabled: {reason}")
    webhook.active = False
    webhook.disabled_reason = reason[:255]
    return bool(turned_off)


def _deliveries_abandon(webhook: Webhook, reason: str) -> None:
    Delivery.objects.filter(webhook=webhook, status=Delivery.PENDING).update(
        status=Delivery.FAILED, last_error=reason[:255]
    )


# --- redelivery -------------------------------------------------------------------


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send a delivery again, with the same webhook-id and body, and a fresh retry window."""
    if not delivery.webhook.active:
        raise ValidationError({"webhook": ["Enable the webhook before redelivering."]})
    now = timezone.now()
    updated = (
        Delivery.objects.filter(pk=delivery.pk)
        .exclude(status=Delivery.RUNNING)
        .update(
            status=Delivery.PENDING,
            next_attempt_at=now,
            enqueued_at=now,
            claimed_at=None,
            give_up_at=now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS),
        )
    )
    if not updated:
        raise ValidationError({"delivery": ["This delivery is being sent right now."]})
    transaction.on_commit(lambda: deliveries_enqueue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


# --- the outbox ----------------------------------------------------------------------


def webhooks_for_events(events: list[Event]) -> dict[int, list[int]]:
    """Per event (by position), the ids of the active webhooks that want it, in one query."""
    projects = {event.project_id for event in events}
    # webhook id -> (categories, the projects among these it covers; None: all of them)
    wanted: dict[int, tuple[list[str], set[int | None]]] = {}
    candidates = (
        Webhook.objects.filter(active=True, owner__is_active=True)
        .filter(Q(projects__isnull=True) | Q(projects__in=projects))
        .values_list("id", "categories", "projects")
    )
    # Category filtering is in Python: JSON containment isn't portable to SQLite.
    for pk, categories, project_id in candidates:
        wanted.setdefault(pk, (categories, set()))[1].add(project_id)
    return {
        index: [
            pk
            for pk, (categories, scope) in wanted.items()
            if (None in scope or event.project_id in scope)
            and (not categories or event.category in categories)
        ]
        for index, event in enumerate(events)
    }


def deliveries_create_for_events(events: list[Event]) -> None:
    """Create the events' deliveries in the current transaction; queue them once it commits
    (the events listener: WebhooksConfig.ready)."""
    if not events:
        return
    targets = webhooks_for_events(events)
    if not any(targets.values()):
        return
    now = timezone.now()
    give_up_at = now + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            webhook_id=pk,
            event=event,
            category=event.category,
            created=now,
            next_attempt_at=now,
            enqueued_at=now,
            give_up_at=give_up_at,
        )
        for index, event in enumerate(events)
        for pk in targets[index]
    )
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: deliveries_enqueue(ids))


def deliveries_enqueue(delivery_ids: Iterable[int], *, countdown: float | None = None) -> None:
    """Queue one delivery task per id; a broker failure is logged and left to the sweep."""
    delivery_ids = list(delivery_ids)
    if not delivery_ids:
        return
    try:
        if _send is None:
            raise RuntimeError("no delivery queue connected (WebhooksConfig.ready)")
        _send(delivery_ids, countdown)
    except Exception:  # never fail the change that raised the event
        log.warning(
            "could not queue webhook deliveries %s; the sweep will", delivery_ids, exc_info=True
        )


# How deliveries reach the workers: tasks.deliveries_send, connected in WebhooksConfig.ready.
# Celery is known to tasks.py only, and tasks.py imports this module, not the other way.
_send: Callable[[list[int], float | None], None] | None = None


def deliveries_queue_connect(send: Callable[[list[int], float | None], None]) -> None:
    """Set how deliveries_enqueue hands ids to the workers: send(ids, countdown)."""
    global _send
    _send = send
