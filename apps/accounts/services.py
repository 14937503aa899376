"""Writes about accounts: API tokens, registration, confirmations, opt-outs, settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.models import APIToken, EmailConfirmation, EmailOptout, User
from apps.accounts.selectors import waiting_registrations

AddressListener = Callable[..., object]
_address_listeners: list[AddressListener] = []


def address_confirmed_listen(listener: AddressListener) -> None:
    """Register listener(user=, email=): called inside the transaction that confirmed an
    address as the user's (a registration activated, or an address linked).

    apps.projects registers the linking of the address's person (ProjectsConfig.ready):
    accounts knows nothing of people.
    """
    if listener not in _address_listeners:
        _address_listeners.append(listener)


def _address_confirmed(*, user: User, email: str) -> None:
    for listener in _address_listeners:
        listener(user=user, email=email)


@transaction.atomic
def api_token_regenerate(*, user: User) -> str:
    """Give the user a new API token; returns the key, which is never stored."""
    key = APIToken.new_key()
    APIToken.objects.update_or_create(
        user=user, defaults={"digest": APIToken.digest_for(key), "prefix": key[:8]}
    )
    return key


class ConfirmationInvalid(Exception):
    """A confirmation that is unknown, already used or expired."""


def user_register(
    *, username: str, email: str, password: str, first_name: str = "", last_name: str = ""
) -> EmailConfirmation:
    """Create an inactive account and the confirmation that will activate it.

    A registration still waiting for this address is dropped first (its link stops
    working): only whoever reads the address's mail can activate, and only with the
    password they chose.
    """
    waiting_registrations().filter(email__iexact=email).delete()
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=False,
    )
    user.set_password(password)
    user.save()
    return EmailConfirmation.objects.create(
        type=EmailConfirmation.REGISTRATION, email=email, user=user
    )


def email_confirmation_request(
    *, type: str, email: str, user: User | None = None
) -> EmailConfirmation:
    """Start confirming an address for an action; earlier pending ones of the same kind lapse."""
    if type not in (
        EmailConfirmation.USERPERSON,
        EmailConfirmation.OPTOUT,
        EmailConfirmation.OPTIN,
    ):
        raise ValueError(f"not a requestable confirmation type: {type}")
    if type == EmailConfirmation.USERPERSON and user is None:
        raise ValueError("linking an address needs a user")
    EmailConfirmation.objects.filter(type=type, email__iexact=email, user=user, active=True).update(
        active=False
    )
    return EmailConfirmation.objects.create(type=type, email=email, user=user)


@transaction.atomic
def email_confirmation_confirm(*, confirmation: EmailConfirmation) -> EmailConfirmation:
    """Carry out a pending confirmation (activate, link, opt out or in) and use it up."""
    if not confirmation.is_valid():
        raise ConfirmationInvalid("expired" if confirmation.active else "used")
    # Claim it with a conditional update so a link clicked twice at once acts once.
    claimed = EmailConfirmation.objects.filter(pk=confirmation.pk, active=True).update(active=False)
    if claimed != 1:
        raise ConfirmationInvalid("used")
    confirmation.active = False
    if confirmation.type == EmailConfirmation.REGISTRATION:
        user = confirmation.user
        assert user is not None  # a registration is created with its user
        user_activate(user=user)
        _address_confirmed(user=user, email=confirmation.email)
    elif confirmation.type == EmailConfirmation.USERPERSON:
        user = confirmation.user
        assert user is not None  # email_confirmation_request refuses a link without a user
        _address_confirmed(user=user, email=confirmation.email)
    elif confirmation.type == EmailConfirmation.OPTOUT:
        email_optout_add(email=confirmation.email)
    elif confirmation.type == EmailConfirmation.OPTIN:
        email_optout_remove(email=confirmation.email)
    return confirmation


def user_activate(*, user: User) -> User:
    """Let a registered user log in."""
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


def person_unlink(*, person: Any) -> Any:
    """Detach an address from its account; the person and their mail stay.

    ``person`` is one of ``user.people`` (the people of apps.projects point at
    their user): accounts reaches them through that relation only.
    """
    person.user = None
    person.save(update_fields=["user"])
    return person


def email_optout_add(*, email: str) -> EmailOptout:
    """Stop notification mail to an address (stored lower-cased)."""
    optout, _ = EmailOptout.objects.get_or_create(email=email.strip().lower())
    return optout


def email_optout_remove(*, email: str) -> int:
    """Let notification mail reach an address again; returns how many opt-outs went."""
    deleted, _ = (
        EmailOptout.objects.annotate(lower=Lower("email"))
        .filter(lower=email.strip().lower())
        .delete()
    )
    return deleted


def user_settings_update(*, user: User, **fields) -> User:
    """Change a user's own settings (items_per_page, show_ids, send_email, names)."""
    allowed = {"items_per_page", "show_ids", "send_email", "first_name", "last_name"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a user setting: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password", "username", "email"])
    user.save(update_fields=list(fields))
    return user


@transaction.atomic
def email_confirmations_expire(*, now=None) -> tuple[int, int]:
    """Drop expired confirmations and never-activated accounts; returns (confirmations, users)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CONFIRMATION_VALIDITY_DAYS)
    registrations = EmailConfirmation.objects.filter(type=EmailConfirmation.REGISTRATION)
    stale_users = User.objects.filter(
        is_active=False,
        last_login__isnull=True,
        pk__in=registrations.filter(date__lt=cutoff).values("user_id"),
    ).exclude(pk__in=registrations.filter(date__gte=cutoff).values("user_id"))
    _, deleted_users = stale_users.delete()
    _, deleted_confirmations = EmailConfirmation.objects.filter(date__lt=cutoff).delete()
    return (
        deleted_confirmations.get(EmailConfirmation._meta.label, 0),
        deleted_users.get(User._meta.label, 0),
    )
