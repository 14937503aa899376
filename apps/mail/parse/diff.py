"""Diffs: separating a patch's diff from its commit message, and the files it touches.

Understands git diffs (renames, copies, mode changes, new/deleted/empty files,
binary patches), plain unified diffs, CVS/Subversion (Index:) and Mercurial
output. A hunk is consumed by the line counts of its "@@ -a,b +c,d @@" header, as
git apply reads it: a signature ("-- ") or prose after a complete hunk is not part of
the diff, even when it starts with "-" or "+", while the empty context lines a hunk
counts (mailers strip their lone space) are, even at the very end.
"""

from __future__ import annotations

import re

_HUNK_RE = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_FILENAME_RE = re.compile(r"^(?:---|\+\+\+) (\S+)")
# Lines that may sit between "diff --git" and "---", or make up a header-only diff.
_GIT_HEADER_RE = re.compile(
    r"^(index |old mode |new mode |deleted file mode |new file mode |similarity index |"
    r"dissimilarity index |rename from |rename to |copy from |copy to |rename old |rename new )"
)
# Git headers that are a complete change on their own (no hunks needed).
_GIT_CHANGE_RE = re.compile(
    r"^(old mode |new mode |deleted file mode |new file mode |rename from |copy from )"
)
# CVS and Subversion put these between "Index:" and "---".
_INDEX_HEADER_RE = re.compile(r"^(={5,}|RCS file: |retrieving revision |diff |Property changes on)")
_BINARY_LINE_RE = re.compile(r"^((literal|delta) \d+|[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]*)$")

TEXT, HEADER, MINUS, PLUS, HUNK, AFTER, BINARY = range(7)


def _starts_file(line: str) -> bool:
    return line.startswith(("diff ", "Index: "))


def split_patch(text: str) -> tuple[str | None, str]:
    """(diff, the rest) of a text body; the diff is None when there is none."""
    text = text.replace("\r\n", "\n")
    diff: list[str] = []
    rest: list[str] = []
    pending: list[str] = []
    state = TEXT
    old = new = 0
    # len(diff) after the last line a hunk or header consumed: blank lines past it (after
    # a binary patch) are trailing space, not content.
    kept = 0

    def header_only_complete() -> bool:
        return pending[0].startswith("diff --git") and any(
            _GIT_CHANGE_RE.match(line) for line in pending[1:]
        )

    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if state == TEXT:
            if _starts_file(line):
                pending, state = [line], HEADER
            elif line.startswith("--- "):
                pending, state = [line], MINUS
            else:
                rest.append(line)
        elif state == HEADER:
            if line.startswith("--- "):
                pending.append(line)
                state = MINUS
            elif line.startswith("GIT binary patch"):
                diff.extend(pending)
                diff.append(line)
                pending, state = [], BINARY
            elif line.startswith("Binary files ") and line.endswith(" differ"):
                diff.extend(pending)
                diff.append(line)
                pending, state = [], AFTER
            elif _GIT_HEADER_RE.match(line) and pending[0].startswith("diff "):
                pending.append(line)
            elif pending[0].startswith("Index: ") and _INDEX_HEADER_RE.match(line):
                pending.append(line)
            elif header_only_complete():
                diff.extend(pending)
                pending, state = [], AFTER
                index -= 1
            else:
                # "diff" or "Index:" in prose: not a diff after all.
                rest.extend(pending)
                pending, state = [], TEXT
                if _starts_file(line):
                    index -= 1
                else:
                    rest.append(line)
        elif state == MINUS:
            if line.startswith("+++ "):
                pending.append(line)
                state = PLUS
            else:
                rest.extend(pending)
                pending, state = [], TEXT
                index -= 1
        elif state == PLUS:
            hunk = _HUNK_RE.match(line)
            if hunk:
                diff.extend(pending)
                diff.append(line)
                pending, state = [], HUNK
                old, new = (int(c) if c else 1 for c in hunk.groups())
            else:
                rest.extend(pending)
                pending, state = [], TEXT
                index -= 1
        elif state == HUNK:
            if line.startswith("\\"):
                diff.append(line)
            elif line.startswith("-"):
                diff.append(line)
                old -= 1
            elif line.startswith("+"):
                diff.append(line)
                new -= 1
            elif line.startswith(" ") or line == "":
                # Mailers strip the lone space of an empty context line.
                diff.append(line)
                old -= 1
                new -= 1
            else:
                state = AFTER
                index -= 1
                continue
            kept = len(diff)
            if old <= 0 and new <= 0:
                state = AFTER
        elif state == AFTER:
            hunk = _HUNK_RE.match(line)
            if hunk:
                diff.append(line)
                state = HUNK
                old, new = (int(c) if c else 1 for c in hunk.groups())
            elif line.startswith("\\ "):
                diff.append(line)
            elif _starts_file(line):
                pending, state = [line], HEADER
            elif line.startswith("--- "):
                pending, state = [line], MINUS
            else:
                state = TEXT
                rest.append(line)
        elif state == BINARY:
            if line == "" or _BINARY_LINE_RE.match(line):
                diff.append(line)
            else:
                state = AFTER
                index -= 1
    # A header-only diff (rename, mode change, empty file) may end the mail.
    if state == HEADER and pending and header_only_complete():
        diff.extend(pending)
    elif pending:
        rest.extend(pending)
    if not diff:
        return None, text
    while len(diff) > kept and diff[-1] == "":
        diff.pop()
    return "\n".join(diff) + "\n", "\n".join(rest)


def find_filenames(diff: str) -> list[str]:
    """The paths a diff touches (from its ---/+++ lines, first component dropped), sorted."""
    names = set()
    for line in diff.replace("\r", "").split("\n"):
        match = _FILENAME_RE.match(line)
        if not match or match.group(1).startswith("/dev/null"):
            continue
        name = "/".join(match.group(1).split("/")[1:])
        if name:
            names.add(name)
    return sorted(names)
