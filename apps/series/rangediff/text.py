"""A range-diff as plain text: a header, then git range-diff's own output (or the same shape
made from the stored diffs when git could not compare the revisions)."""

from __future__ import annotations

from apps.series.models import RangeDiff, Series
from apps.series.rangediff.services import range_diff_summary, summary_sentence

MARKS = {"unchanged": "=", "changed": "!", "dropped": "<", "new": ">"}


def _pair_line(entry: dict) -> str:
    old = f"{entry['old']}:" if entry["old"] else "-:"
    new = f"{entry['new']}:" if entry["new"] else "-:"
    name = entry["new_name"] or entry["old_name"] or ""
    return f"{old:>4} {MARKS[entry['status']]} {new:>4} {name}"


def _stored_text(row: RangeDiff) -> str:
    lines = []
    for entry in row.entries:
        lines.append(_pair_line(entry))
        for trailer in entry["trailers"]:
            lines.append(f"    + {trailer}")
        lines.extend("    " + line for line in entry["message"] + entry["code"])
    return "\n".join(lines) + "\n"


def range_diff_text(row: RangeDiff, *, series: Series, against: Series) -> str:
    summary = range_diff_summary(row, series=series, against=against)
    how = "git range-diff" if row.method == "git" else "the stored diffs (no base applied)"
    header = (
        f"{summary_sentence(summary)}\n"
        f"series {against.pk} (v{against.version}) -> series {series.pk} (v{series.version}), "
        f"compared with {how}\n\n"
    )
    body = row.text if row.method == "git" else _stored_text(row)
    return header + body
