"""Writes about projects and people."""

from __future__ import annotations

from apps.accounts.models import User
from apps.projects.models import Person, Project


def project_update(*, project: Project, **fields) -> Project:
    """Change a project's editable fields (not linkname, listid or listemail)."""
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save(update_fields=list(fields))
    return project


def person_link(*, user: User, email: str) -> Person:
    """Make the person behind an address the user's, so their past mail becomes theirs."""
    person = Person.objects.select_for_update().filter(email__iexact=email).order_by("pk").first()
    if person is None:
        return Person.objects.create(email=email, name=user.get_full_name(), user=user)
    if person.user_id != user.pk:
        person.user = user
        person.save(update_fields=["user"])
    return person
