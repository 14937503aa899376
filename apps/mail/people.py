"""Who sent a mail: the Person for an address, created or updated on the way."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import User
from apps.projects.models import Person


def person_for_mail(
    *, email: str, name: str, cache: dict[str, Person] | None = None, at_once: bool = False
) -> Person:
    """The Person with this address (case-insensitive); new ones are linked to the owning User.

    at_once: cached now, not at commit (a batch: its writer forgets the cache when a
    transaction or savepoint of the batch rolls back)."""
    key = email.lower()
    person = cache.get(key) if cache is not None else None
    if person is None:
        person = Person.objects.filter(email__iexact=email).first()
    if person is None:
        user = User.objects.filter(email__iexact=email).first()
        # Another worker may create them at the same moment (another project's mail).
        Person.objects.bulk_create(
            [Person(email=email, name=name, user=user)], ignore_conflicts=True
        )
        person = Person.objects.get(email__iexact=email)
    if name and person.name != name:
        # The latest name seen wins: people fix their display names.
        person.name = name
        Person.objects.filter(pk=person.pk).update(name=name)
    if cache is not None and key not in cache:
        if at_once:
            cache[key] = person
        else:
            # Only committed rows may be reused by later mails of the same run.
            transaction.on_commit(lambda: cache.setdefault(key, person))
    return person
