"""Incoming mail: every message stored raw before parsing, with its outcome."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


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


class AwaitedMessage(models.Model):
    """A Message-ID that something is waiting for, so its arrival completes the picture.

    Lists deliver out of order: a reply may come before the patch it answers
    (REPLY: the waiting mail), a patch before the cover letter or earlier patch
    it is threaded to (THREAD: the series it was put in, depth 0 = its
    In-Reply-To), a series before one it Depends-on (DEPENDS: the series).
    """

    REPLY = "reply"
    THREAD = "thread"
    DEPENDS = "depends"
    KINDS = [(REPLY, "reply"), (THREAD, "thread"), (DEPENDS, "depends")]

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    msgid = models.CharField(max_length=255)
    kind = models.CharField(max_length=8, choices=KINDS)
    mail = models.ForeignKey(
        IncomingMail, null=True, blank=True, on_delete=models.CASCADE, related_name="awaiting"
    )
    series = models.ForeignKey(
        "series.Series", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # REPLY: index of msgid in the mail's references (higher = closer parent);
    # THREAD: distance from the referencing mail (0 = its direct parent).
    position = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["project", "msgid"], name="awaited_project_msgid")]
        constraints = [
            models.UniqueConstraint(
                fields=["mail", "msgid"],
                condition=Q(mail__isnull=False),
                name="unique_awaited_reply",
            ),
            models.UniqueConstraint(
                fields=["kind", "series", "msgid", "position"],
                condition=Q(series__isnull=False),
                name="unique_awaited_series",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} awaits {self.msgid}"


class InboxCursor(models.Model):
    """How far a public-inbox git repository (a v1 inbox or a v2 epoch) has been ingested."""

    repository = models.CharField(max_length=1024, unique=True, help_text="Its absolute path")
    last_commit = models.CharField(max_length=64)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.repository} at {self.last_commit[:12]}"
