"""The range-diff page of a series and its text form."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.series.models import Series
from apps.series.rangediff.services import (
    RangeDiffError,
    range_diff_against,
    range_diff_chain,
    range_diff_get,
    range_diff_summary,
    summary_sentence,
)
from apps.series.rangediff.text import range_diff_text

LINE_CLASSES = {"+": "add", "-": "del", "@": "hunk"}


def _pair(request: HttpRequest, linkname: str, series_id: int):
    series = get_object_or_404(
        Series.objects.select_related("project", "submitter"),
        pk=series_id,
        project__linkname=linkname,
    )
    try:
        against = range_diff_against(series, request.GET.get("against"))
    except RangeDiffError as exc:
        return series, None, exc
    return series, against, None


def _lines(lines: list[str]) -> list[tuple[str, str]]:
    """(css class, line) for a diff of diffs: the class follows the outer marker."""
    return [(LINE_CLASSES.get(line[:1], ""), line) for line in lines]


def series_range_diff(request: HttpRequest, linkname: str, series_id: int) -> HttpResponse:
    series, against, error = _pair(request, linkname, series_id)
    if against is None:
        context = {"project": series.project, "series": series, "error": str(error)}
        return render(request, "series/range_diff.html", context, status=error.status)
    row = range_diff_get(series=series, against=against)
    summary = range_diff_summary(row, series=series, against=against)
    entries = [
        {
            **entry,
            "code_lines": _lines(entry["code"]),
            "message_lines": _lines(entry["message"]),
        }
        for entry in row.entries
    ]
    context = {
        "project": series.project,
        "series": series,
        "against": against,
        "chain": range_diff_chain(series),
        "row": row,
        "summary": summary,
        "sentence": summary_sentence(summary),
        "entries": entries,
    }
    return render(request, "series/range_diff.html", context)


def series_range_diff_text(request: HttpRequest, linkname: str, series_id: int) -> HttpResponse:
    series, against, error = _pair(request, linkname, series_id)
    if against is None:
        return HttpResponse(
            f"{error}\n", status=error.status, content_type="text/plain; charset=utf-8"
        )
    row = range_diff_get(series=series, against=against)
    text = range_diff_text(row, series=series, against=against)
    return HttpResponse(text, content_type="text/plain; charset=utf-8")
