"""Writes about projects, people and users."""

from __future__ import annotations

from django.db import transaction

from apps.projects.models import APIToken, Project, User


@transaction.atomic
def api_token_regenerate(*, user: User) -> str:
    """Give the user a new API token; returns the key, which is never stored."""
    key = APIToken.new_key()
    APIToken.objects.update_or_create(
        user=user, defaults={"digest": APIToken.digest_for(key), "prefix": key[:8]}
    )
    return key


def project_update(*, project: Project, **fields) -> Project:
    """Change a project's editable fields (not linkname, listid or listemail)."""
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save(update_fields=list(fields))
    return project
