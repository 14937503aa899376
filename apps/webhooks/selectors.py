"""Reads about webhooks and their delivery log."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook


def webhooks_visible_to(user) -> QuerySet[Webhook]:
    """Webhooks the user may see: their own, or every one for admins."""
    if not getattr(user, "is_authenticated", False):
        return Webhook.objects.none()
    webhooks = Webhook.objects.select_related("owner").prefetch_related("projects")
    return webhooks if user.is_superuser else webhooks.filter(owner=user)


def webhook_get_for_user(user, webhook_id: int) -> Webhook | None:
    """The webhook if the user may see it, else None (callers answer 404)."""
    return webhooks_visible_to(user).filter(pk=webhook_id).first()


def deliveries_for_webhook(webhook: Webhook, *, failed_only: bool = False) -> QuerySet[Delivery]:
    """A webhook's deliveries, newest first; failed_only keeps those whose last try failed."""
    deliveries = Delivery.objects.filter(webhook=webhook).defer("body").order_by("-id")
    if failed_only:
        deliveries = deliveries.filter(
            Q(status=Delivery.FAILED) | (Q(status=Delivery.PENDING) & ~Q(last_error=""))
        )
    return deliveries


def delivery_get(webhook: Webhook, delivery_id: int) -> Delivery | None:
    return Delivery.objects.filter(webhook=webhook, pk=delivery_id).first()


def delivery_attempts(delivery: Delivery) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(delivery=delivery).order_by("-number", "-id")
