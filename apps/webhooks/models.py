"""Webhook subscriptions and the delivery outbox with its attempt log."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_secret() -> str:
    # Standard Webhooks form: "whsec_" + base64 of the raw HMAC key, so receivers can use
    # any Standard Webhooks library as well as a few lines of hmac.
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


class Webhook(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=255, blank=True, default="")
    projects = models.ManyToManyField(
        "projects.Project",
        blank=True,
        related_name="+",
        help_text="Empty: every project the owner may see.",
    )
    categories = models.JSONField(
        default=list, blank=True, help_text="Event categories to send; empty: all."
    )
    active = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, default=new_secret)
    previous_secret = models.CharField(max_length=100, blank=True, default="")
    previous_secret_expires = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(default=timezone.now)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One event owed to one webhook; created in the event's transaction (the outbox)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STATUSES = [
        (PENDING, "pending"),
        (RUNNING, "running"),
        (SUCCEEDED, "succeeded"),
        (FAILED, "failed"),
    ]

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(
        "events.Event", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    category = models.CharField(max_length=25, help_text="Event category, or 'ping'")
    message_id = models.CharField(max_length=40, default=new_message_id, unique=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a task was last queued; the sweep re-queues old ones.",
    )
    give_up_at = models.DateTimeField(
        null=True, blank=True, help_text="No retry is scheduled after this time."
    )
    body = models.TextField(
        blank=True, default="", help_text="The JSON sent, frozen at the first attempt."
    )
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["webhook", "-id"], name="delivery_webhook"),
        ]

    def __str__(self) -> str:
        return f"{self.category} -> {self.webhook_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(default=1)
    started = models.DateTimeField(default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True, default="")
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True, default="", help_text="First KiB")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.pk} of delivery {self.delivery_id}"
