"""Patch-list rows: what one row shows, fetched for a whole page in a fixed number of queries.

One row is one partial (`patches/_row.html`, DOM id `patch-row-<id>`) so a row can be
re-rendered and swapped alone: after a bulk action here, or by live updates. The
row's cells, which depend on the patch and the viewer's options only, are built here
(`row_cells`): through the template engine they cost more than the rest of the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape as html_escape
from types import SimpleNamespace
from urllib.parse import quote

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from apps.patches.models import Patch, PatchTag
from apps.patches.selectors import ids_in, light_rows, patch_check_summaries, submitter_columns
from apps.projects.models import Tag

# Shown for a patch whose mail had no subject (its name is "", as in Patchwork).
NO_SUBJECT = "(no subject)"

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


def escape(value) -> str:
    """django.utils.html.escape() (the same characters, the same entities) without its
    lazy-string wrapper: a row escapes a dozen values."""
    return html_escape(str(value))


def patch_rows(ids: list[int]) -> list[SimpleNamespace]:
    """Rows of these patches, in that order, as light objects (one query).

    What a page of the list shows, without model instances (five a row with their
    relations); the submitter is looked up by id (joined, the planner hashes the
    whole people table).
    """
    if not ids:
        return []
    values = (
        Patch.objects.filter(ids_in("id", ids))
        .order_by()
        .annotate(**submitter_columns())
        .values(*ROW_FIELDS)
    )
    by_id = {}
    for row in light_rows(values, nullable=("delegate", "series")):
        row.url_msgid = row.msgid.strip("<>")  # Patch.url_msgid
        by_id[row.id] = row
    return [by_id[pk] for pk in ids if pk in by_id]


def row_options(request: HttpRequest, *, use_tags: bool = True) -> RowOptions:
    user = request.user
    tags = list(Tag.objects.filter(show_column=True).order_by("abbrev")) if use_tags else []
    return RowOptions(
        tag_columns=tags,
        show_ids=bool(getattr(user, "show_ids", False)),
        selectable=user.is_authenticated,
    )


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
    summaries = patch_check_summaries(ids) if ids else {}
    url_of = patch_url_builder()
    series_prefix = reverse("series-detail", args=[0])[:-2]
    tz = timezone.get_current_timezone()
    for patch in patches:
        patch.row_url = url_of(patch)
        patch.row_series_url = f"{series_prefix}{patch.series_id}/" if patch.series_id else ""
        patch.row_tags = [
            {"tag": tag, "count": counts.get((patch.pk, tag.pk), 0)} for tag in options.tag_columns
        ]
        patch.row_checks = summaries.get(patch.pk)
        patch.row_cells = row_cells(patch, tz)
    return patches


def row_cells(patch: Patch, tz=None) -> SafeString:
    """The cells of a decorated patch's row, from its name to its state (escaped)."""
    # A mail without a subject keeps name "" (as Patchwork); the link still needs text.
    # Long values are cut to one line on wide screens: each says itself in full in a title.
    text = escape(patch.name or NO_SUBJECT)
    name = f'<a href="{escape(patch.row_url)}" title="{text}">{text}</a>'
    if patch.archived:
        name += ' <span class="archived-badge">archived</span>'
    series = ""
    if patch.series_id:
        title = patch.series.name or "Untitled series"
        series = (
            f'<a class="series-link" href="{escape(patch.row_series_url)}" '
            f'title="{escape(title)}">{escape(Truncator(title).chars(40))}</a>'
        )
    tags = "".join(
        f'<td class="col-tag num{"" if t["count"] else " count-0"}" '
        f'title="{escape(t["tag"].name)}: {t["count"]}">{t["count"] or "-"}</td>'
        for t in patch.row_tags
    )
    c = patch.row_checks
    if c and c["total"]:
        n = c["counts"]
        checks = (
            f'<span class="checks" title="{n["success"]} success, {n["warning"]} warning, '
            f'{n["fail"]} fail, {n["pending"]} pending"><span class="c-success">{n["success"]}'
            f'</span>/<span class="c-warning">{n["warning"]}</span>/<span class="c-fail">'
            f"{n['fail']}</span></span>"
        )
    else:
        checks = '<span class="muted">-</span>'
    date = timezone.localtime(patch.date, tz)
    when = (
        f'<time datetime="{date.isoformat()}" title="{date:%Y-%m-%d %H:%M:%S} '
        f'{escape(date.tzname() or "")}">{date:%Y-%m-%d}</time>'
    )
    person = patch.submitter
    submitter = escape(person.name or person.email)
    submitter_title = escape(f"{person.name} <{person.email}>" if person.name else person.email)
    delegate = escape(patch.delegate.username) if patch.delegate_id else ""
    state = patch.state
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<td class="name">{name}</td>\n'
        f'  <td class="col-series">{series}</td>\n'
        f"  {tags}\n"
        f'  <td class="col-checks">{checks}</td>\n'
        f'  <td class="col-date nowrap">{when}</td>\n'
        f'  <td class="col-submitter" title="{submitter_title}">{submitter}</td>\n'
        f'  <td class="col-delegate" title="{delegate}">{delegate}</td>\n'
        f'  <td class="col-state"><span class="state-badge'
        f'{" action-required" if state.action_required else ""}">{escape(state.name)}</span></td>'
    )


def row_html(
    patch, options: RowOptions, *, selected: bool = False, changed: bool = False, oob: bool = False
) -> SafeString:
    """A decorated patch's whole row, as `patches/_row.html` renders it (byte for byte).

    The list page builds its 100 rows here: included 100 times, the partial cost more
    than the rest of the page. Live updates and bulk actions still render the partial.
    """
    pk = patch.pk
    number = "" if patch.number is None else patch.number
    select = ids = swap = ""
    if options.selectable:
        checked = " checked" if selected else ""
        select = (
            f'<td class="col-select"><input type="checkbox" name="patch_id" value="{pk}" '
            f'aria-label="Select patch {pk}"{checked}></td>'
        )
    if options.show_ids:
        ids = f'<td class="col-id num">{pk}</td>'
    if oob:
        swap = ' hx-swap-oob="outerHTML"'
    classes = "patch-row" + (" selected" if selected else "") + (" changed" if changed else "")
    html = (
        f'<tr id="patch-row-{pk}" data-patch-id="{pk}" data-number="{number}" '
        f'data-href="{escape(patch.row_url)}" class="{classes}"{swap}>\n'
        f"  {select}\n"
        f"  {ids}\n"
        f"  {patch.row_cells}\n</tr>"
    )
    if oob:
        html = f"<template>{html}</template>"
    return mark_safe(html + "\n")  # noqa: S308 - every value is escaped or a number


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
