"""Accounts: users, their API tokens, address confirmations and notification opt-outs.

The classes live here, but their ``app_label`` stays "projects": the tables, the
migrations (apps/projects/migrations) and ``AUTH_USER_MODEL = "projects.User"``
are unchanged. Django registers a model under its app_label when its module is
imported, and this module is imported as apps.accounts' models (apps.accounts is
in INSTALLED_APPS), so apps/projects/models.py does not need to import them.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


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
        app_label = "projects"
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


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
        app_label = "projects"
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

    class Meta:
        app_label = "projects"

    def __str__(self) -> str:
        return f"{self.type} for {self.email}"

    def is_valid(self) -> bool:
        age = timezone.now() - self.date
        return self.active and age.days < settings.CONFIRMATION_VALIDITY_DAYS


class EmailOptout(models.Model):
    """An address that asked not to receive notification mail."""

    email = models.CharField(max_length=255, primary_key=True)

    class Meta:
        app_label = "projects"
        verbose_name = "e-mail opt-out"

    def __str__(self) -> str:
        return self.email
