"""REST representations of projects, people and users, per API version."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.api.support import ApiContext
from apps.api.versions import LIST_ARCHIVE, SERIES_DEPENDENCIES, SUBJECT_MATCH, USER_SETTINGS_WRITE
from apps.projects.models import Person, Project


def user_embedded(user: User | None, ctx: ApiContext) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "url": ctx.api_url("users", user.id),
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
    }


def user_to_dict(user: User, ctx: ApiContext, *, detail: bool = False) -> dict[str, Any]:
    """A user; the detail view adds its settings (1.2+), shown to that user only."""
    data = user_embedded(user, ctx)
    assert data is not None  # None only for no user
    if (
        detail
        and ctx.since(USER_SETTINGS_WRITE)
        and ctx.user is not None
        and ctx.user.pk == user.pk
    ):
        data["settings"] = {
            "send_email": user.send_email,
            "items_per_page": user.items_per_page,
            "show_ids": user.show_ids,
        }
    return data


def person_embedded(person: Person, ctx: ApiContext) -> dict[str, Any]:
    return {
        "id": person.id,
        "url": ctx.api_url("people", person.id),
        # As Patchwork: no display name in the mail ("From: a@example.org") is null.
        "name": person.name or None,
        "email": person.email,
    }


def person_to_dict(person: Person, ctx: ApiContext) -> dict[str, Any]:
    data = person_embedded(person, ctx)
    data["user"] = user_embedded(person.user, ctx)
    return data


def project_embedded(project: Project, ctx: ApiContext) -> dict[str, Any]:
    data = {
        "id": project.id,
        "url": ctx.api_url("projects", project.id),
        "name": project.name,
        "link_name": project.linkname,
        "list_id": project.listid,
        "list_email": project.listemail,
        "web_url": project.web_url,
        "scm_url": project.scm_url,
        "webscm_url": project.webscm_url,
    }
    if ctx.since(LIST_ARCHIVE):
        data["list_archive_url"] = project.list_archive_url
        data["list_archive_url_format"] = project.list_archive_url_format
        data["commit_url_format"] = project.commit_url_format
    return data


def project_to_dict(project: Project, ctx: ApiContext) -> dict[str, Any]:
    """A project; ``maintainers`` should be prefetched."""
    data = {
        "id": project.id,
        "url": ctx.api_url("projects", project.id),
        "name": project.name,
        "link_name": project.linkname,
        "list_id": project.listid,
        "list_email": project.listemail,
        "web_url": project.web_url,
        "scm_url": project.scm_url,
        "webscm_url": project.webscm_url,
        "maintainers": [
            user_embedded(u, ctx) for u in sorted(project.maintainers.all(), key=lambda u: u.pk)
        ],
    }
    if ctx.since(SUBJECT_MATCH):
        data["subject_match"] = project.subject_match
    if ctx.since(LIST_ARCHIVE):
        data["list_archive_url"] = project.list_archive_url
        data["list_archive_url_format"] = project.list_archive_url_format
        data["commit_url_format"] = project.commit_url_format
    if ctx.since(SERIES_DEPENDENCIES):
        data["show_dependencies"] = project.show_dependencies
    return data


def list_archive_url(project: Project, msgid: str) -> str | None:
    """The archive's page for a Message-ID, if the project has an archive URL format."""
    if not project.list_archive_url_format:
        return None
    return project.list_archive_url_format.format(msgid.strip().strip("<>"))
