"""Checks: results that CI systems report against a patch."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from apps.patches.models import Patch


class Check(models.Model):
    PENDING = "pending"
    SUCCESS = "success"
    WARNING = "warning"
    FAIL = "fail"
    STATES = [(PENDING, "pending"), (SUCCESS, "success"), (WARNING, "warning"), (FAIL, "fail")]

    patch = models.ForeignKey(Patch, on_delete=models.CASCADE, related_name="checks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    target_url = models.URLField(max_length=200, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    context = models.CharField(
        max_length=255,
        default="default",
        validators=[RegexValidator(r"^[-a-zA-Z0-9_]+$", "Use letters, digits, '-' and '_' only.")],
    )

    class Meta:
        ordering = ["date", "id"]
        indexes = [models.Index(fields=["patch", "context", "user", "date"], name="check_latest")]

    def __str__(self) -> str:
        return f"{self.context}: {self.state}"
