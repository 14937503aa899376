"""Two revisions compared patch by patch: by ``git range-diff``, or from the stored diffs.

The result is a list of entries, one per patch of either revision, in the order
git range-diff prints them; each is new, dropped, unchanged or changed. For a
changed patch the diff of the diffs is split in three: the code, the commit
message, and the trailers (Reviewed-by: …) it newly carries, which alone do not
make a patch changed (a CI run on the previous revision still holds).
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field

from apps.series.rangediff.synthetic import PatchText, UnsupportedDiff, fast_import_stream

NEW, DROPPED, UNCHANGED, CHANGED = "new", "dropped", "unchanged", "changed"
# "1:  1234567 ! 1:  89abcde subject"; "-:  ------- > 3:  89abcde subject"
PAIR_RE = re.compile(r"^\s*(\d+|-):\s+(?:[0-9a-f]+|-+) ([=!<>]) \s*(\d+|-):\s+(?:[0-9a-f]+|-+) ")
STATUS = {"=": UNCHANGED, "!": CHANGED, "<": DROPPED, ">": NEW}
TRAILER_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*-by: \S")
MESSAGE_SECTIONS = ("@@ Metadata", "@@ Commit message")
GIT_TIMEOUT = 60
# git's default (60) leaves small patches unpaired after any real change; the two
# series are revisions of each other, so pair more readily.
CREATION_FACTOR = 95


@dataclass
class Entry:
    """One patch of either revision (positions are 1-based indexes into each revision)."""

    status: str
    old: int | None
    new: int | None
    code: list[str] = field(default_factory=list)
    message: list[str] = field(default_factory=list)
    trailers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Comparison:
    entries: list[Entry]
    method: str  # "git" (range-diff) or "stored" (difflib on the stored diffs)
    text: str  # what git range-diff printed (empty for "stored")


# --- git range-diff -----------------------------------------------------------------------


def _git(args: list[str], cwd: str, stdin: bytes | None = None) -> bytes:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": cwd,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        check=True,
        env=env,
        timeout=GIT_TIMEOUT,
    ).stdout


def run_range_diff(old: list[PatchText], new: list[PatchText]) -> str:
    """git range-diff's text for two revisions, from commits made of their diffs."""
    with tempfile.TemporaryDirectory(prefix="pw-range-diff-") as repo:
        _git(["init", "-q", "--bare", "."], repo)
        _git(["fast-import", "--quiet", "--done"], repo, fast_import_stream([old, new]))
        out = _git(
            [
                "range-diff",
                "--no-color",
                "--no-notes",
                f"--creation-factor={CREATION_FACTOR}",
                "base..s0",
                "base..s1",
            ],
            repo,
        )
    return out.decode("utf-8", "replace")


def _split_body(entry: Entry, body: list[str]) -> None:
    """Sort the indented diff of diffs under a changed pair into message, trailers, code."""
    section = ""
    message: list[str] = []
    for raw in body:
        line = raw[4:] if raw.startswith("    ") else raw.lstrip()
        if line.startswith("@@ "):
            section = line
        target = message if section.startswith(MESSAGE_SECTIONS) else entry.code
        target.append(line)
    _classify_message(entry, message)


def _classify_message(entry: Entry, message: list[str]) -> None:
    """Added trailer lines apart; the message's diff only if something else changed."""
    changed = [ln for ln in message if ln[:1] in "+-" and not ln.startswith(("@@", "+++", "---"))]
    added_trailers = [ln[1:].strip() for ln in changed if ln.startswith("+")]
    added_trailers = [t for t in added_trailers if TRAILER_RE.match(t)]
    entry.trailers = added_trailers
    if len(added_trailers) != len(changed):
        entry.message = message


def parse_range_diff(text: str) -> list[Entry]:
    """The entries of git range-diff's --no-color output."""
    entries: list[Entry] = []
    body: list[str] = []

    def close() -> None:
        if entries and body:
            _split_body(entries[-1], body)
            entry = entries[-1]
            if entry.status == CHANGED and not (entry.code or entry.message):
                entry.status = UNCHANGED  # only trailers were added
        body.clear()

    for line in text.splitlines():
        match = PAIR_RE.match(line)
        if match:
            close()
            old, status, new = match.groups()
            entries.append(
                Entry(
                    STATUS[status],
                    None if old == "-" else int(old),
                    None if new == "-" else int(new),
                )
            )
        elif entries:
            body.append(line)
    close()
    return entries


# --- the stored diffs, when git cannot build the commits -------------------------------------

_LINE_NUMBERS_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")


def _normal_diff(diff: str) -> list[str]:
    """A diff without what moves when the base does: index lines and hunk line numbers."""
    lines = []
    for line in (diff or "").splitlines():
        if line.startswith("index "):
            continue
        lines.append(_LINE_NUMBERS_RE.sub("@@", line))
    return lines


def _message_lines(patch: PatchText) -> list[str]:
    return [patch.subject.strip(), "", *patch.message.strip().splitlines()]


def _pairs(old: list[PatchText], new: list[PatchText]) -> list[tuple[int | None, int | None]]:
    """Pair patches by subject first, then by position among those left."""
    by_subject: dict[str, list[int]] = {}
    for index, patch in enumerate(old):
        by_subject.setdefault(patch.subject.strip(), []).append(index)
    pairs: dict[int, int] = {}
    for index, patch in enumerate(new):
        candidates = by_subject.get(patch.subject.strip())
        if candidates:
            pairs[index] = candidates.pop(0)
    left = sorted(set(range(len(old))) - set(pairs.values()))
    for index in range(len(new)):
        if index not in pairs and left and left[0] <= index:
            pairs[index] = left.pop(0)
    result: list[tuple[int | None, int | None]] = [(pairs.get(i), i) for i in range(len(new))]
    used = set(pairs.values())
    result += [(i, None) for i in range(len(old)) if i not in used]
    return result


def compare_stored(old: list[PatchText], new: list[PatchText]) -> list[Entry]:
    """Entries made with difflib from the stored diffs and messages."""
    entries = []
    for o, n in _pairs(old, new):
        if o is None or n is None:
            entries.append(Entry(NEW if o is None else DROPPED, _one(o), _one(n)))
            continue
        entry = Entry(UNCHANGED, o + 1, n + 1)
        entry.code = _udiff(_normal_diff(old[o].diff), _normal_diff(new[n].diff))
        message = _udiff(_message_lines(old[o]), _message_lines(new[n]))
        _classify_message(entry, message)
        if entry.code or entry.message:
            entry.status = CHANGED
        entries.append(entry)
    return entries


def _one(index: int | None) -> int | None:
    return None if index is None else index + 1


def _udiff(a: list[str], b: list[str]) -> list[str]:
    lines = list(difflib.unified_diff(a, b, lineterm="", n=3))
    return lines[2:]  # without the ---/+++ header


def compare(old: list[PatchText], new: list[PatchText]) -> Comparison:
    """Compare two revisions with git range-diff, else from the stored diffs."""
    try:
        text = run_range_diff(old, new)
    except (UnsupportedDiff, subprocess.SubprocessError, OSError):
        return Comparison(compare_stored(old, new), "stored", "")
    return Comparison(parse_range_diff(text), "git", text)
