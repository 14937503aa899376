"""Projects, people, users and the per-instance vocabulary (states, tags)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

# The User model and its kin are apps.accounts' (with app_label "projects"). Old
# migrations of this app name these two by their old path: they stay importable here.
from apps.accounts.models import (  # noqa: F401
    UsernameValidator,
    _default_items_per_page,
)
from apps.projects.http_urls import validate_http_url, validate_http_url_format


class Project(models.Model):
    linkname = models.SlugField(max_length=255, unique=True)
    name = models.CharField(max_length=255, unique=True)
    listid = models.CharField(max_length=255, db_index=True)
    listemail = models.CharField(max_length=200)
    subject_match = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Regex matched against the subject (IGNORECASE, MULTILINE) when several "
        "projects share a list; empty means the default project of its list.",
    )
    web_url = models.CharField(
        max_length=2000, blank=True, default="", validators=[validate_http_url]
    )
    scm_url = models.CharField(max_length=2000, blank=True, default="")
    webscm_url = models.CharField(
        max_length=2000, blank=True, default="", validators=[validate_http_url]
    )
    list_archive_url = models.CharField(
        max_length=2000, blank=True, default="", validators=[validate_http_url]
    )
    list_archive_url_format = models.CharField(
        max_length=2000,
        blank=True,
        default="",
        validators=[validate_http_url_format],
        help_text="URL of the archive's Message-ID redirector; {} is replaced by the Message-ID.",
    )
    commit_url_format = models.CharField(
        max_length=2000,
        blank=True,
        default="",
        validators=[validate_http_url_format],
        help_text="URL of a commit in the web SCM; {} is replaced by the commit id.",
    )
    send_notifications = models.BooleanField(default=False)
    use_tags = models.BooleanField(default=True)
    show_dependencies = models.BooleanField(default=False)
    # Beyond Patchwork: revision tracking and cover-letter trailers (on by default).
    auto_supersede = models.BooleanField(default=True)
    cover_trailers = models.BooleanField(default=True)
    # Whose X-Patchwork-State and X-Patchwork-Delegate headers ingestion follows.
    HINTS_FROM_ANYONE = "anyone"
    HINTS_FROM_MAINTAINERS = "maintainers"
    HINTS_FROM_NOBODY = "nobody"
    hint_headers_from = models.CharField(
        max_length=20,
        choices=[
            (HINTS_FROM_ANYONE, "anyone (as Patchwork)"),
            (HINTS_FROM_MAINTAINERS, "the project's maintainers"),
            (HINTS_FROM_NOBODY, "nobody"),
        ],
        default=HINTS_FROM_ANYONE,
        # Also in the database: rows written by raw SQL (bench, fast paths) get it too.
        db_default=HINTS_FROM_ANYONE,
        help_text="Whose X-Patchwork-State and X-Patchwork-Delegate mail headers are "
        "followed, judged by the mail's From address (which the MTA should vouch for). "
        "A delegate must be a maintainer in any case.",
    )
    maintainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="maintained_projects"
    )

    class Meta:
        ordering = ["linkname"]
        constraints = [
            models.UniqueConstraint(
                fields=["listid", "subject_match"], name="unique_project_list_subject"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """Anyone who sent mail: identified by e-mail address, case-insensitively."""

    email = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
    )

    class Meta:
        verbose_name_plural = "people"
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="unique_person_email_ci"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class State(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    ordering = models.IntegerField(unique=True)
    action_required = models.BooleanField(default=True)

    class Meta:
        ordering = ["ordering"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=20, unique=True)
    pattern = models.CharField(
        max_length=50,
        help_text="Regex matching a tag line, e.g. ^Acked-by:; used with MULTILINE and IGNORECASE.",
    )
    abbrev = models.CharField(max_length=2, unique=True, help_text="Column header on patch lists")
    show_column = models.BooleanField(default=True)

    class Meta:
        ordering = ["abbrev"]

    def __str__(self) -> str:
        return self.name


class DelegationRule(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="delegation_rules")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    path = models.CharField(max_length=255, help_text="fnmatch pattern over the diff's file paths")
    priority = models.IntegerField(default=0)

    class Meta:
        ordering = ["-priority", "path"]
        constraints = [
            models.UniqueConstraint(fields=["project", "path"], name="unique_delegation_path")
        ]

    def __str__(self) -> str:
        return f"{self.path} -> {self.user}"
