"""Series: the patches (and optional cover letter) sent together as one submission."""

from __future__ import annotations

from types import SimpleNamespace

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.projects.models import Person, Project


class Series(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="series")
    name = models.CharField(max_length=255, null=True, blank=True)
    date = models.DateTimeField(default=timezone.now)
    submitter = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="series")
    version = models.PositiveIntegerField(default=1)
    total = models.PositiveIntegerField(default=1, help_text="The M of N/M")
    cover = models.OneToOneField(
        "patches.Cover",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="series",
    )
    dependencies = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents"
    )
    # Revision tracking: the earlier version this series rerolls, and b4's change-id.
    previous_revision = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_revisions",
    )
    change_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    # Matched to its previous revision by name or change-id only: that one is superseded
    # at this time, unless mail arriving meanwhile links it better (see revisions.py).
    supersede_due = models.DateTimeField(null=True, blank=True)

    # Not columns: set on the candidates apps.series.services._load_candidates loads.
    numbers: dict[int | None, int]  # its patches' number -> id
    has_later: bool  # a later revision names it as previous
    cover_replies: bool  # its cover letter has replies
    # Not columns: set by apps.series.sql.series_for_patch_page.
    newer_revision: SimpleNamespace | None  # its newest next revision (pk, name, version)
    has_dependencies: bool

    class Meta:
        verbose_name_plural = "series"
        ordering = ["date", "id"]
        indexes = [
            models.Index(fields=["project", "date"], name="series_project_date"),
            models.Index(fields=["submitter", "date"], name="series_submitter_date"),
            # Revisions matched by name (apps/series/revisions.py): without it, every new
            # series scanned all of its submitter's earlier ones.
            models.Index(fields=["project", "name"], name="series_project_name"),
            models.Index(
                fields=["supersede_due"],
                name="series_supersede_due",
                condition=models.Q(supersede_due__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"series {self.pk}"


class SeriesReference(models.Model):
    """A Message-ID known to belong to a series, so later mail finds its series."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="references")
    msgid = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "msgid"], name="unique_series_reference")
        ]

    def __str__(self) -> str:
        return self.msgid


class RangeDiff(models.Model):
    """What changed between two revisions of a series, computed once (apps/series/rangediff).

    fingerprint says what the comparison was made of (both series' patches and the
    trailers their comments give): a row whose fingerprint no longer matches is stale
    and is computed again when next asked for.
    """

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    against = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)  # "git" (git range-diff) or "stored" (difflib)
    entries = models.JSONField(default=list)
    text = models.TextField(blank=True, default="")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "against"], name="unique_range_diff")
        ]

    def __str__(self) -> str:
        return f"range-diff {self.against_id}..{self.series_id}"


class AwaitedMessage(models.Model):
    """A Message-ID that something is waiting for, so its arrival completes the picture.

    Its table is mail's (app label "mail"); the class lives with series, whose placement
    (THREAD) and dependencies (DEPENDS) keep their state in it; ingestion adds REPLY rows.

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
        "mail.IncomingMail",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="awaiting",
    )
    series = models.ForeignKey(
        "series.Series", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # REPLY: index of msgid in the mail's references (higher = closer parent);
    # THREAD: distance from the referencing mail (0 = its direct parent).
    position = models.PositiveIntegerField(default=0)

    class Meta:
        # Mail's table and migrations: the class lives here, below mail, for series to use.
        app_label = "mail"
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
