"""Reads about projects, people and users."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.projects.models import Project, State
from apps.projects.params import parse_id


def user_is_maintainer(user, project: Project) -> bool:
    """Whether user may triage the project's patches (maintainers and superusers)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return project.maintainers.filter(pk=user.pk).exists()


def user_maintained_project_ids(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Project.objects.values_list("id", flat=True))
    return set(user.maintained_projects.values_list("id", flat=True))


def state_default() -> State | None:
    """The state a new patch gets: the first in ordering (New)."""
    return State.objects.order_by("ordering").first()


def state_lookup(value: str) -> State | None:
    """A state by slug or by name (case-insensitive), as clients send either."""
    value = (value or "").strip()
    if not value:
        return None
    return (
        State.objects.filter(slug__iexact=value).first()
        or State.objects.filter(name__iexact=value).first()
    )


def project_lookup(value: str | int) -> Project | None:
    """A project by id or by linkname."""
    pk = parse_id(value)
    if pk is not None:
        return Project.objects.filter(pk=pk).first()
    return Project.objects.filter(linkname=value).first()


def projects_all() -> QuerySet[Project]:
    return Project.objects.order_by("linkname")
