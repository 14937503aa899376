"""Reads for the XML-RPC API: its filter dicts and max_count, over the models.

A filter key is FIELD or FIELD__LOOKUP. An unknown field or lookup matches
nothing (the legacy API answered such queries with an empty list); a value
the field cannot hold is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import FieldError, ValidationError
from django.db.models import Q, QuerySet

from apps.checks.models import Check
from apps.patches.models import Patch
from apps.projects.models import Person, Project, State
from apps.projects.params import is_id, parse_id
from apps.xmlrpc.types import CHECK_RELATED, PATCH_RELATED

LOOKUPS = frozenset(
    "iexact contains icontains gt gte lt in startswith istartswith endswith iendswith "
    "range year month day isnull".split()
)

FieldFilter = Callable[[str, Any], Q]


class FilterValueError(ValueError):
    """A filter value the field cannot hold."""


def _column(column: str) -> FieldFilter:
    return lambda lookup, value: Q(**{f"{column}__{lookup}": value})


def _msgid(lookup: str, value: Any) -> Q:
    # Clients send Message-IDs with or without their angle brackets.
    if lookup in ("exact", "iexact") and isinstance(value, str):
        value = value.strip()
        if not value.startswith("<"):
            value = f"<{value}>"
    return Q(**{f"msgid__{lookup}": value})


def _delegate_person(lookup: str, value: Any) -> Q:
    # pwclient resolves "-d NAME" with person_list and sends Person ids:
    # match the patches delegated to those people's accounts.
    if lookup == "isnull":
        return Q(delegate__isnull=value)
    users = Person.objects.filter(**{f"id__{lookup}": value}, user__isnull=False)
    return Q(delegate__in=users.values("user"))


def _check_user(lookup: str, value: Any) -> Q:
    # A username, or a user id (as a number or a string of digits).
    if lookup == "isnull":
        return Q(user__isnull=value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Q(**{f"user_id__{lookup}": value})
    query = Q(**{f"user__username__{lookup}": value})
    if isinstance(value, str) and is_id(value):
        query |= Q(**{f"user_id__{lookup}": parse_id(value)})
    return query


PATCH_FIELDS: dict[str, FieldFilter] = {
    "id": _column("id"),
    "name": _column("name"),
    "project_id": _column("project_id"),
    "submitter_id": _column("submitter_id"),
    "delegate_id": _delegate_person,
    "archived": _column("archived"),
    "state_id": _column("state_id"),
    "date": _column("date"),
    "commit_ref": _column("commit_ref"),
    "hash": _column("hash"),
    "msgid": _msgid,
    "series": _column("series_id"),
}

CHECK_FIELDS: dict[str, FieldFilter] = {
    "id": _column("id"),
    "user": _check_user,
    "project_id": _column("patch__project_id"),
    "patch_id": _column("patch_id"),
}


def max_count_slice(queryset: QuerySet, max_count: int) -> list:
    """0: all; n > 0: the first n; n < 0: the last |n| — in id order."""
    if max_count > 0:
        return list(queryset.order_by("id")[:max_count])
    if max_count < 0:
        return list(reversed(queryset.order_by("-id")[:-max_count]))
    return list(queryset.order_by("id"))


def _filtered(queryset: QuerySet, filt: dict, fields: dict[str, FieldFilter]) -> list:
    filt = dict(filt)
    max_count = filt.pop("max_count", 0)
    if max_count is None:
        max_count = 0
    if isinstance(max_count, bool) or not isinstance(max_count, int):
        raise FilterValueError("max_count must be an integer")
    query = Q()
    for key, value in filt.items():
        field, _, lookup = str(key).partition("__")
        if field not in fields or (lookup and lookup not in LOOKUPS):
            return []
        try:
            query &= fields[field](lookup or "exact", value)
        except FieldError:
            return []  # a lookup this field does not support, e.g. name__year
        except (ValueError, TypeError, ValidationError) as exc:
            raise FilterValueError(f"Invalid value {value!r} for filter {key!r}") from exc
    try:
        return max_count_slice(queryset.filter(query), max_count)
    except FieldError:
        return []
    except (ValueError, TypeError, ValidationError) as exc:
        raise FilterValueError(f"Invalid filter value: {exc}") from exc


def patches_filtered(filt: dict) -> list[Patch]:
    """Patches matching every filter of a legacy patch_list call."""
    return _filtered(Patch.objects.select_related(*PATCH_RELATED), filt, PATCH_FIELDS)


def checks_filtered(filt: dict) -> list[Check]:
    """Checks matching every filter of a legacy check_list call."""
    return _filtered(Check.objects.select_related(*CHECK_RELATED), filt, CHECK_FIELDS)


def projects_search(search_str: str, max_count: int) -> list[Project]:
    return max_count_slice(Project.objects.filter(linkname__icontains=search_str), max_count)


def people_search(search_str: str, max_count: int) -> list[Person]:
    people = Person.objects.select_related("user").filter(
        Q(name__icontains=search_str) | Q(email__icontains=search_str)
    )
    return max_count_slice(people, max_count)


def states_search(search_str: str, max_count: int) -> list[State]:
    return max_count_slice(State.objects.filter(name__icontains=search_str), max_count)


def patch_get(patch_id: int) -> Patch | None:
    return Patch.objects.select_related(*PATCH_RELATED).filter(pk=patch_id).first()


def patch_get_by_hash(hash: str, project: str | None = None) -> Patch | None:
    """The first patch with this hash (in a project given by linkname)."""
    patches = Patch.objects.select_related(*PATCH_RELATED).filter(hash=hash)
    if project is not None:
        patches = patches.filter(project__linkname=project)
    return patches.order_by("id").first()


def check_get(check_id: int) -> Check | None:
    return Check.objects.select_related(*CHECK_RELATED).filter(pk=check_id).first()
