"""Projects, people, users and the per-instance vocabulary (states, tags)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from apps.projects.http_urls import validate_http_url, validate_http_url_format


def _default_items_per_page() -> int:
    return settings.DEFAULT_ITEMS_PER_PAGE


class UsernameValidator(UnicodeUsernameValidator):
    """Django's username characters without '@'.

    Logins accept an e-mail address in place of the username; a username that
    looked like an address could take another user's address from them.
    """

    regex = r"^[\w.+-]+\Z"
    message = "Enter a valid username: letters, digits and . + - _ only (no @)."


class User(AbstractUser):
    """An account; carries the per-user settings Patchwork keeps in its profile."""

    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="150 characters or fewer. Letters, digits and . + - _ only.",
        validators=[UsernameValidator()],
        error_messages={"unique": "A user with that username already exists."},
    )
    items_per_page = models.PositiveIntegerField(
        default=_default_items_per_page, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    show_ids = models.BooleanField(default=False)
    send_email = models.BooleanField(
        default=False, help_text="Whether Patchwork may send e-mail on your behalf."
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


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


class APIToken(models.Model):
    """A user's REST API token; only its SHA-256 is stored, the key is shown once."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_token"
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise a token")
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def digest_for(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(20)


class EmailConfirmation(models.Model):
    """A pending confirmation mailed to an address (registration, linking, opt-in/out)."""

    REGISTRATION = "registration"
    USERPERSON = "userperson"
    OPTOUT = "optout"
    OPTIN = "optin"
    TYPES = [
        (REGISTRATION, "Registration"),
        (USERPERSON, "Link e-mail address"),
        (OPTOUT, "Opt out of notifications"),
        (OPTIN, "Opt back into notifications"),
    ]

    type = models.CharField(max_length=20, choices=TYPES)
    email = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    key = models.CharField(max_length=64, unique=True, default=secrets.token_hex)
    date = models.DateTimeField(default=timezone.now, db_index=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.type} for {self.email}"

    def is_valid(self) -> bool:
        age = timezone.now() - self.date
        return self.active and age.days < settings.CONFIRMATION_VALIDITY_DAYS


class EmailOptout(models.Model):
    """An address that asked not to receive notification mail."""

    email = models.CharField(max_length=255, primary_key=True)

    class Meta:
        verbose_name = "e-mail opt-out"

    def __str__(self) -> str:
        return self.email
