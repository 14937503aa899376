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
    splitter = _Splitter()
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        if not splitter.feed(lines[index]):
            index += 1
    return splitter.result(text)


class _Splitter:
    """split_patch's state machine, a line at a time: one method per state, each
    returning True when the line must be read again in the state it moved to."""

    def __init__(self) -> None:
        self.diff: list[str] = []
        self.rest: list[str] = []
        # A file's header lines, until a hunk (or a complete git header) makes them a diff.
        self.pending: list[str] = []
        self.state = TEXT
        # The old and new lines the current hunk still counts.
        self.old = self.new = 0
        # len(diff) after the last line a hunk or header consumed: blank lines past it
        # (after a binary patch) are trailing space, not content.
        self.kept = 0
        # Indexed by state (TEXT, HEADER, MINUS, PLUS, HUNK, AFTER, BINARY).
        self._handlers = (
            self._text,
            self._header,
            self._minus,
            self._plus,
            self._hunk,
            self._after,
            self._binary,
        )

    def feed(self, line: str) -> bool:
        return self._handlers[self.state](line)

    def result(self, text: str) -> tuple[str | None, str]:
        # A header-only diff (rename, mode change, empty file) may end the mail.
        if self.state == HEADER and self.pending and self._header_only_complete():
            self.diff.extend(self.pending)
        elif self.pending:
            self.rest.extend(self.pending)
        diff = self.diff
        if not diff:
            return None, text
        while len(diff) > self.kept and diff[-1] == "":
            diff.pop()
        return "\n".join(diff) + "\n", "\n".join(self.rest)

    def _header_only_complete(self) -> bool:
        return self.pending[0].startswith("diff --git") and any(
            _GIT_CHANGE_RE.match(line) for line in self.pending[1:]
        )

    def _start_file(self, line: str) -> bool:
        """Start a file's header if line starts one."""
        if _starts_file(line):
            self.pending, self.state = [line], HEADER
        elif line.startswith("--- "):
            self.pending, self.state = [line], MINUS
        else:
            return False
        return True

    def _accept(self, line: str, state: int) -> None:
        """The pending header is a diff, line included."""
        self.diff.extend(self.pending)
        self.diff.append(line)
        self.pending, self.state = [], state

    def _reject(self) -> None:
        """The pending lines were prose after all."""
        self.rest.extend(self.pending)
        self.pending, self.state = [], TEXT

    def _hunk_starts(self, hunk: re.Match[str]) -> None:
        self.state = HUNK
        self.old, self.new = (int(c) if c else 1 for c in hunk.groups())

    def _text(self, line: str) -> bool:
        if not self._start_file(line):
            self.rest.append(line)
        return False

    def _header(self, line: str) -> bool:
        pending = self.pending
        if line.startswith("--- "):
            pending.append(line)
            self.state = MINUS
        elif line.startswith("GIT binary patch"):
            self._accept(line, BINARY)
        elif line.startswith("Binary files ") and line.endswith(" differ"):
            self._accept(line, AFTER)
        elif _GIT_HEADER_RE.match(line) and pending[0].startswith("diff "):
            pending.append(line)
        elif pending[0].startswith("Index: ") and _INDEX_HEADER_RE.match(line):
            pending.append(line)
        elif self._header_only_complete():
            self.diff.extend(pending)
            self.pending, self.state = [], AFTER
            return True
        else:
            # "diff" or "Index:" in prose: not a diff after all.
            self._reject()
            if _starts_file(line):
                return True
            self.rest.append(line)
        return False

    def _minus(self, line: str) -> bool:
        if not line.startswith("+++ "):
            self._reject()
            return True
        self.pending.append(line)
        self.state = PLUS
        return False

    def _plus(self, line: str) -> bool:
        hunk = _HUNK_RE.match(line)
        if not hunk:
            self._reject()
            return True
        self._accept(line, HUNK)
        self._hunk_starts(hunk)
        return False

    def _hunk(self, line: str) -> bool:
        if line.startswith("\\"):
            pass
        elif line.startswith("-"):
            self.old -= 1
        elif line.startswith("+"):
            self.new -= 1
        elif line.startswith(" ") or line == "":
            # Mailers strip the lone space of an empty context line.
            self.old -= 1
            self.new -= 1
        else:
            self.state = AFTER
            return True
        self.diff.append(line)
        self.kept = len(self.diff)
        if self.old <= 0 and self.new <= 0:
            self.state = AFTER
        return False

    def _after(self, line: str) -> bool:
        hunk = _HUNK_RE.match(line)
        if hunk:
            self.diff.append(line)
            self._hunk_starts(hunk)
        elif line.startswith("\\ "):
            self.diff.append(line)
        elif not self._start_file(line):
            self.state = TEXT
            self.rest.append(line)
        return False

    def _binary(self, line: str) -> bool:
        if line == "" or _BINARY_LINE_RE.match(line):
            self.diff.append(line)
            return False
        self.state = AFTER
        return True


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
