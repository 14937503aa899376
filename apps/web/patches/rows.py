"""Patch-list rows: what one row shows, fetched for a whole page in a fixed number of queries.

One row is one partial (`patches/_row.html`, DOM id `patch-row-<id>`) so a row can be
re-rendered and swapped alone: after a bulk action here, or by live updates. The list
page itself builds its rows with fast_rows.py (the same bytes, measured faster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS

from apps.checks.selectors import check_summaries
from apps.patches.models import Patch, PatchTag
from apps.patches.selectors import ids_in
from apps.projects.models import Tag

# Columns a row needs; the big text fields (content, diff, headers) are never loaded.
ROW_FIELDS = (
    "id",
    "msgid",
    "name",
    "date",
    "archived",
    "number",
    "project_id",
    "project__linkname",
    "project__name",
    "project__use_tags",
    "submitter_id",
    "submitter__name",
    "submitter__email",
    "delegate_id",
    "delegate__username",
    "delegate__first_name",
    "delegate__last_name",
    "state_id",
    "state__name",
    "state__slug",
    "state__action_required",
    "series_id",
    "series__name",
    "series__version",
    "series__total",
)


@dataclass
class RowOptions:
    """Per-viewer choices that shape every row the same way."""

    tag_columns: list[Tag]
    show_ids: bool
    selectable: bool


def patch_rows_queryset(qs: QuerySet[Patch]) -> QuerySet[Patch]:
    """The joins and columns rows display, in one query."""
    return qs.select_related("project", "submitter", "delegate", "state", "series").only(
        *ROW_FIELDS
    )


def patch_rows(ids: list[int]) -> list[Patch]:
    """Rows of these patches, in that order (one query)."""
    if not ids:
        return []
    by_id = {p.pk: p for p in patch_rows_queryset(Patch.objects.filter(ids_in("id", ids)))}
    return [by_id[pk] for pk in ids if pk in by_id]


def row_options(
    request: HttpRequest, *, use_tags: bool = True, tags: list[Tag] | None = None
) -> RowOptions:
    """The viewer's options (tags: the tag columns, if already read)."""
    user = request.user
    if tags is None:
        tags = row_tag_columns(use_tags=use_tags)
    return RowOptions(
        tag_columns=tags,
        show_ids=bool(getattr(user, "show_ids", False)),
        selectable=user.is_authenticated,
    )


def row_tag_columns(*, use_tags: bool = True) -> list[Tag]:
    """The tag columns rows show (none where the project does not use tags)."""
    return list(Tag.objects.filter(show_column=True).order_by("abbrev")) if use_tags else []


def patch_url_builder() -> Callable[[Patch], str]:
    """patch -> its page URL, as reverse() makes it, without resolving the route per row."""
    prefixes: dict[str, str] = {}

    def build(patch: Patch) -> str:
        linkname = patch.project.linkname
        if linkname not in prefixes:
            prefixes[linkname] = reverse("patch-detail", args=[linkname, "M"])[:-2]
        # The same quoting reverse() applies to the path.
        return prefixes[linkname] + quote(patch.url_msgid, safe=RFC3986_SUBDELIMS + "/~:@") + "/"

    return build


def patch_rows_decorate(patches: list[Patch], options: RowOptions) -> list[Patch]:
    """Attach URLs (`row_url`, `row_series_url`), tag counts (`row_tags`) and the check
    summary (`row_checks`): two queries."""
    ids = [p.pk for p in patches]
    counts: dict[tuple[int, int], int] = {}
    if ids and options.tag_columns:
        for patch_id, tag_id, count in PatchTag.objects.filter(
            ids_in("patch_id", ids), ids_in("tag_id", [t.pk for t in options.tag_columns])
        ).values_list("patch_id", "tag_id", "count"):
            counts[(patch_id, tag_id)] = count
    summaries = check_summaries(ids) if ids else {}
    url_of = patch_url_builder()
    series_prefix = reverse("series-detail", args=[0])[:-2]
    for patch in patches:
        patch.row_url = url_of(patch)
        patch.row_series_url = f"{series_prefix}{patch.series_id}/" if patch.series_id else ""
        patch.row_tags = [
            {"tag": tag, "count": counts.get((patch.pk, tag.pk), 0)} for tag in options.tag_columns
        ]
        patch.row_checks = summaries.get(patch.pk)
    return patches


def items_per_page(user) -> int:
    value = getattr(user, "items_per_page", None) or settings.DEFAULT_ITEMS_PER_PAGE
    return max(1, min(int(value), 1000))


def patch_rows_html(
    request: HttpRequest,
    patch_ids: Iterable[int],
    *,
    selected: Iterable[int] = (),
    oob: bool = False,
    use_tags: bool = True,
    project_id: int | None = None,
) -> dict[int, str]:
    """Each of these patches' rows (for swapping it in place), by patch id, in three queries
    (only the project's, if given): after a bulk action, and live."""
    qs = Patch.objects.filter(ids_in("id", patch_ids))
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    patches = list(patch_rows_queryset(qs))
    if not patches:
        return {}
    options = row_options(request, use_tags=use_tags)
    patch_rows_decorate(patches, options)
    selected = set(selected)
    return {
        patch.pk: render_to_string(
            "patches/_row.html",
            {
                "patch": patch,
                "opts": options,
                "selected": patch.pk in selected,
                "oob": oob,
                "changed": True,
            },
            request=request,
        )
        for patch in patches
    }


def render_patch_rows(
    request: HttpRequest,
    patch_ids: Iterable[int],
    *,
    selected: Iterable[int] = (),
    oob: bool = False,
    use_tags: bool = True,
) -> str:
    """The HTML of these patches' rows (for swapping them in place), in three queries."""
    html = patch_rows_html(request, patch_ids, selected=selected, oob=oob, use_tags=use_tags)
    return "".join(html.values())
