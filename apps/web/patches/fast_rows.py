"""The patch list's rows built in Python, byte for byte as `patches/_row.html` renders them.

The one fast path of the HTML pages, kept because it pays: `./dev bench --only rows`
(the list page of a 5,000-patch project, 100 rows, process CPU per request, median)
measured 30 ms with these rows and 82-95 ms with the partial included once a row: the
Python rows save about 65 % of the page (the bar is 10 %).
The page's rows are light rows (`patch_rows_light`), not model instances: six instances a
row (patch, project, submitter, delegate, state, series) cost the 100-row page about a
quarter of its Python work. Instructions of the Django process per request (callgrind,
bench/request_cost.py, 3,000-patch bench dataset, /project/linux/list/): 80.9 M before
issue 20's restructuring (light rows), 108.2 M after it (model instances), 81.9 M with
light rows again (docs/benchmarks.md, issue 20).

Live list updates build their rows here too, from model instances (once per kind of
viewer per batch: about 150 ms of p50 at 100 open pages, docs/benchmarks.md); bulk
actions render the partial itself (rows.patch_rows); tests/web/test_patch_rows.py checks
that both give the same bytes. A change to _row.html must be made here too.
"""

from __future__ import annotations

from html import escape as html_escape
from types import SimpleNamespace

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from apps.patches.models import Patch
from apps.patches.selectors import ids_in
from apps.patches.sql import light_rows, submitter_columns
from apps.web.patches.rows import ROW_FIELDS, RowOptions

# Shown for a patch whose mail had no subject (its name is "", as in Patchwork).
NO_SUBJECT = "(no subject)"


def patch_rows_light(ids: list[int]) -> list[SimpleNamespace]:
    """rows.patch_rows(ids) as light rows (one query): the attributes row_html and
    patch_rows_decorate read, nested as on the instances (`row.state.name`). The
    submitter's name and address are looked up by id (joined, the planner hashes the
    whole people table)."""
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
        by_id[row.pk] = row
    return [by_id[pk] for pk in ids if pk in by_id]


def escape(value) -> str:
    """django.utils.html.escape() (the same characters, the same entities) without its
    lazy-string wrapper: a row escapes a dozen values."""
    return html_escape(str(value))


def row_cells(patch, tz=None) -> SafeString:
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
    patch,
    options: RowOptions,
    *,
    selected: bool = False,
    changed: bool = False,
    oob: bool = False,
    tz=None,
) -> SafeString:
    """A decorated patch's whole row, as `patches/_row.html` renders it (byte for byte)."""
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
        f"  {row_cells(patch, tz)}\n</tr>"
    )
    if oob:
        html = f"<template>{html}</template>"
    return mark_safe(html + "\n")  # noqa: S308 - every value is escaped or a number
