"""Diffs rendered for the patch page: split per file, lines classed like Pygments' diff lexer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

from apps.web.patches.fast_rows import escape

# Past this many lines the page shows the start and points to the raw download.
MAX_LINES = 20_000

_GIT_HEADER = re.compile(r"^diff --git a/(.*) b/(.*)$")


@dataclass
class DiffFile:
    name: str
    lines: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    html: SafeString = mark_safe("")


def _file_name(lines: list[str]) -> str:
    old = new = ""
    for line in lines[:12]:
        if match := _GIT_HEADER.match(line):
            old, new = match.group(1), match.group(2)
        elif line.startswith("--- "):
            old = _strip_prefix(line[4:])
        elif line.startswith("+++ "):
            new = _strip_prefix(line[4:])
            break
    if new and new != "/dev/null":
        return new
    return old or "(diff)"


def _strip_prefix(path: str) -> str:
    path = path.split("\t")[0].strip()
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def split_files(diff: str) -> list[DiffFile]:
    """Split a diff at each file's header (`diff --git`, or `---`/`+++` pairs)."""
    lines = diff.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    starts = []
    in_hunk = False
    for i, line in enumerate(lines):
        if line.startswith("diff "):
            starts.append(i)
            in_hunk = False
        elif (
            line.startswith("--- ")
            and i + 1 < len(lines)
            and lines[i + 1].startswith("+++ ")
            and not (starts and not in_hunk and starts[-1] >= i - 6)
        ):
            starts.append(i)
            in_hunk = False
        elif line.startswith("@@"):
            in_hunk = True
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    files = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        chunk = lines[start:end]
        if not chunk:
            continue
        f = DiffFile(name=_file_name(chunk), lines=chunk)
        in_hunk = False
        for line in chunk:
            if line.startswith("@@"):
                in_hunk = True
            elif in_hunk and line.startswith("+"):
                f.added += 1
            elif in_hunk and line.startswith("-"):
                f.removed += 1
        files.append(f)
    return files


# Pygments' DiffLexer rules, line by line (the same classes, a tenth of the time: the
# lexer ran a regex machine per token and was the patch page's costliest step).
_CHANGE_COUNTS = re.compile(r"\d(?:,\d+)?[acd]\d+(?:,\d+)?$")


def line_class(line: str) -> str:
    """The highlight class of one diff line, as Pygments' DiffLexer classes it."""
    if line.startswith(" "):
        return ""
    if line.startswith("!") or line == "---":
        return "gs"
    if line.startswith(("< ", "-")):
        return "gd"
    if line.startswith(("> ", "+")):
        return "gi"
    if line.startswith("@") or _CHANGE_COUNTS.match(line):
        return "gu"
    if line.startswith(("Index", "index", "diff", "=")):
        return "gh"
    return ""


def _highlight(lines: list[str]) -> SafeString:
    """One span per line, classed like Pygments' diff tokens; the text itself is escaped.

    The file's text is escaped in one call (escaping maps each character on its own and
    leaves newlines be, so its lines are the escaped lines): a call a line was a tenth of
    an ordinary patch page's Python function calls."""
    out = []
    in_hunk = False
    escaped_lines = escape("\n".join(lines)).split("\n")
    for line, escaped in zip(lines, escaped_lines, strict=True):
        line = line.rstrip("\r")  # a CRLF mail's line end, not text to show
        in_hunk = in_hunk or line.startswith("@@")
        if not in_hunk and line.startswith(("--- ", "+++ ")):
            cls = "gh"  # file header lines, not changes
        else:
            cls = line_class(line)
        shown = escaped.rstrip("\r") or " "
        out.append(f'<span class="{cls}">{shown}</span>')
    return mark_safe("\n".join(out))  # noqa: S308 - the text was escaped above


def render_diff(diff: str | None) -> tuple[list[DiffFile], bool]:
    """Files of the diff with highlighted HTML; True as second value if it was cut short."""
    if not diff:
        return [], False
    files = split_files(diff)
    budget = MAX_LINES
    truncated = False
    shown = []
    for f in files:
        if budget <= 0:
            truncated = True
            break
        if len(f.lines) > budget:
            f.lines = f.lines[:budget]
            truncated = True
        budget -= len(f.lines)
        f.html = _highlight(f.lines)
        shown.append(f)
    return shown, truncated
