"""Reads for the account pages.

A user's people and maintained projects (apps.projects' models, which point at
the user) are read through the user's relations, ``user.people`` and
``user.maintained_projects``: accounts imports nothing above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Model, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.models import EmailConfirmation, EmailOptout, User


def user_by_login(identifier: str) -> User | None:
    """The account a login names: by e-mail address first when it has an '@', else username.

    Address first, so that an old username spelled like someone's address cannot
    take that address's login from its owner.
    """
    name = identifier.strip()
    if "@" in name:
        owner = User.objects.filter(email__iexact=name).order_by("pk").first()
        if owner is not None:
            return owner
    return User.objects.filter(username=name).first()


def waiting_registrations() -> QuerySet[User]:
    """Accounts registered but never activated nor used (their confirmation pending)."""
    return User.objects.filter(
        is_active=False,
        last_login__isnull=True,
        emailconfirmation__type=EmailConfirmation.REGISTRATION,
        emailconfirmation__active=True,
    )


def registration_waiting(user: User) -> bool:
    """Whether this account is a registration still waiting for its confirmation."""
    return waiting_registrations().filter(pk=user.pk).exists()


@dataclass(frozen=True)
class AccountAddress:
    """One of a user's addresses as the profile shows it."""

    email: str
    person: Model | None  # an apps.projects Person
    primary: bool
    opted_out: bool


def optedout_emails(emails: list[str]) -> set[str]:
    """Which of these addresses (lower-cased) opted out of notification mail."""
    lowered = {e.lower() for e in emails}
    if not lowered:
        return set()
    return set(
        EmailOptout.objects.annotate(lower=Lower("email"))
        .filter(lower__in=lowered)
        .values_list("lower", flat=True)
    )


def email_is_opted_out(email: str) -> bool:
    """Whether notification mail to this address must not be sent."""
    return bool(optedout_emails([email]))


def user_addresses(user: User) -> list[AccountAddress]:
    """The user's primary address first, then every linked person's address."""
    people = list(user.people.order_by("email"))
    emails = [user.email] + [p.email for p in people] if user.email else [p.email for p in people]
    optedout = optedout_emails(emails)
    addresses = []
    primary = user.email.lower() if user.email else None
    if user.email:
        person = next((p for p in people if p.email.lower() == primary), None)
        addresses.append(AccountAddress(user.email, person, True, primary in optedout))
    for person in people:
        if person.email.lower() == primary:
            continue
        addresses.append(
            AccountAddress(person.email, person, False, person.email.lower() in optedout)
        )
    return addresses


def user_pending_links(user: User) -> QuerySet[EmailConfirmation]:
    """The user's address links still waiting for their mail to be answered."""
    cutoff = timezone.now() - timedelta(days=settings.CONFIRMATION_VALIDITY_DAYS)
    return EmailConfirmation.objects.filter(
        user=user, type=EmailConfirmation.USERPERSON, active=True, date__gte=cutoff
    ).order_by("date")


def user_maintained_projects(user: User) -> QuerySet:
    return user.maintained_projects.order_by("linkname")
