"""Events: the durable log of every change, read by /api/events/, pages and webhooks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Event(models.Model):
    COVER_CREATED = "cover-created"
    PATCH_CREATED = "patch-created"
    PATCH_COMPLETED = "patch-completed"
    PATCH_STATE_CHANGED = "patch-state-changed"
    PATCH_DELEGATED = "patch-delegated"
    PATCH_RELATION_CHANGED = "patch-relation-changed"
    CHECK_CREATED = "check-created"
    SERIES_CREATED = "series-created"
    SERIES_COMPLETED = "series-completed"
    COVER_COMMENT_CREATED = "cover-comment-created"
    PATCH_COMMENT_CREATED = "patch-comment-created"
    CATEGORIES = [
        (COVER_CREATED, "Cover Letter Created"),
        (PATCH_CREATED, "Patch Created"),
        (PATCH_COMPLETED, "Patch Completed"),
        (PATCH_STATE_CHANGED, "Patch State Changed"),
        (PATCH_DELEGATED, "Patch Delegate Changed"),
        (PATCH_RELATION_CHANGED, "Patch Relation Changed"),
        (CHECK_CREATED, "Check Created"),
        (SERIES_CREATED, "Series Created"),
        (SERIES_COMPLETED, "Series Completed"),
        (COVER_COMMENT_CREATED, "Cover Comment Created"),
        (PATCH_COMMENT_CREATED, "Patch Comment Created"),
    ]

    category = models.CharField(max_length=25, choices=CATEGORIES, db_index=True)
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    date = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    patch = models.ForeignKey(
        "patches.Patch", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    series = models.ForeignKey(
        "series.Series", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cover = models.ForeignKey(
        "patches.Cover", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    previous_state = models.ForeignKey(
        "projects.State", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_state = models.ForeignKey(
        "projects.State", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_relation = models.ForeignKey(
        "patches.PatchRelation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    current_relation = models.ForeignKey(
        "patches.PatchRelation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_check = models.ForeignKey(
        "checks.Check", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    patch_comment = models.ForeignKey(
        "patches.PatchComment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cover_comment = models.ForeignKey(
        "patches.CoverComment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["project", "date"], name="event_project_date"),
            models.Index(fields=["date", "id"], name="event_date"),
            models.Index(fields=["patch", "id"], name="event_patch"),
            models.Index(fields=["series", "id"], name="event_series"),
        ]

    def __str__(self) -> str:
        return f"{self.category} #{self.pk}"
