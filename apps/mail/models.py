"""Incoming mail: every message stored raw before parsing, with its outcome."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# AwaitedMessage is mail's table (app label "mail", unchanged), defined in apps/series/models.py:
# series placement and dependencies keep their state in it, and series may not import mail.
# Imported here so `apps.mail.models.AwaitedMessage` is where ingestion finds it.
from apps.series.models import AwaitedMessage


class IncomingMail(models.Model):
    PENDING = "pending"
    PARSED = "parsed"
    IGNORED = "ignored"
    FAILED = "failed"
    STATUSES = [(PENDING, "pending"), (PARSED, "parsed"), (IGNORED, "ignored"), (FAILED, "failed")]

    raw = models.BinaryField()
    list_id = models.CharField(
        max_length=255, blank=True, default="", help_text="--list-id given at intake, if any"
    )
    msgid = models.CharField(max_length=255, blank=True, default="", db_index=True)
    received = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING, db_index=True)
    reason = models.TextField(blank=True, default="", help_text="Why it was ignored or failed")
    outcome = models.CharField(
        max_length=255, blank=True, default="", help_text="What it became, e.g. 'patch 12 in foo'"
    )
    project = models.ForeignKey(
        "projects.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "incoming mail"
        verbose_name_plural = "incoming mail"
        ordering = ["-received", "-id"]

    def __str__(self) -> str:
        return f"{self.msgid or 'mail'} ({self.status})"


__all__ = ["AwaitedMessage", "InboxCursor", "IncomingMail"]


class InboxCursor(models.Model):
    """How far a public-inbox git repository (a v1 inbox or a v2 epoch) has been ingested."""

    repository = models.CharField(max_length=1024, unique=True, help_text="Its absolute path")
    last_commit = models.CharField(max_length=64)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.repository} at {self.last_commit[:12]}"
