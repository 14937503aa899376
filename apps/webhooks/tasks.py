"""Celery tasks: they take ids and call one function in delivery.py."""

from __future__ import annotations

from celery import shared_task

from apps.webhooks import delivery


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(delivery_id: int) -> None:
    """Send one delivery (if it is still due and nobody else has it)."""
    delivery.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    """Queue due deliveries whose task was lost; reclaim those of dead workers."""
    return delivery.deliveries_requeue()


@shared_task(name="webhooks.prune_log", ignore_result=True)
def prune_log() -> int:
    """Delete the delivery log older than WEBHOOK_LOG_RETENTION_DAYS."""
    return delivery.delivery_log_prune()
