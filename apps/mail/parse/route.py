"""Routing: which project a mail belongs to, from its list and its subject."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar


class ProjectLike(Protocol):
    pk: int
    listid: str
    listemail: str
    subject_match: str


_Project = TypeVar("_Project", bound=ProjectLike)  # choose_project gives back what it got


def list_keys(project: ProjectLike) -> set[str]:
    """The identifiers a project's list is known by: its List-Id and its address."""
    keys = {project.listid.strip().strip("<>").strip().lower(), project.listemail.strip().lower()}
    return keys - {""}


def choose_project(
    projects: Iterable[_Project], list_ids: list[str], subject: str
) -> tuple[_Project | None, str]:
    """(project, reason): the first list id that names a list, then subject_match or its default."""
    by_list: dict[str, list[_Project]] = {}
    for project in sorted(projects, key=lambda p: p.pk):
        for key in list_keys(project):
            by_list.setdefault(key, []).append(project)
    if not list_ids:
        return None, "no List-Id (or other list header) and no --list-id"
    for list_id in list_ids:
        group = by_list.get(list_id.strip().strip("<>").strip().lower())
        if not group:
            continue
        default = None
        for project in group:
            if not project.subject_match:
                default = default or project
                continue
            try:
                if re.search(project.subject_match, subject, re.MULTILINE | re.IGNORECASE):
                    return project, ""
            except re.error:
                continue
        if default is not None:
            return default, ""
        return None, f"no project of list {list_id} matches the subject"
    return None, f"no project for list {list_ids[0]}"
