"""Commits made from stored diffs alone, so ``git range-diff`` can compare two revisions.

A patch only shows the lines around its changes, not the files it applies to,
and two revisions are rarely sent against a base we have. But range-diff
compares each commit's own diff, stripped of line numbers, so any base on which
the diff applies gives the same answer. Each patch therefore gets a base of its
own, rebuilt from the diff's preimage: its context and removed lines at their
line numbers, blank lines in the gaps. Its postimage is built the same way from
the context and added lines, so the commit's diff is the patch's diff.

Every patch's base is a merge commit (``git range-diff`` ignores merges), its
patch a child of it: the range holds exactly the series' patches, in order.
Everything is written by one ``git fast-import`` stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
DIFF_GIT_RE = re.compile(r"^diff --git (\S+) (\S+)$")
UNSAFE_RE = re.compile(r"[<>\n]")  # what an author line cannot hold


class UnsupportedDiff(ValueError):
    """A diff these commits cannot be made from (the stored diffs are compared instead)."""


@dataclass
class FileChange:
    """One file of a diff: its paths and modes before and after, and both images."""

    old_path: str | None = None
    new_path: str | None = None
    old_mode: str = "100644"
    new_mode: str = "100644"
    pre: list[str] = field(default_factory=list)
    post: list[str] = field(default_factory=list)
    pre_eol: bool = True  # whether the preimage's last line ends with a newline
    post_eol: bool = True


@dataclass
class PatchText:
    """What a commit needs from a patch: subject, message (with trailers), author, diff."""

    subject: str
    message: str
    author_name: str
    author_email: str
    timestamp: int
    diff: str


def _strip_prefix(path: str) -> str | None:
    if path == "/dev/null":
        return None
    if path.startswith('"'):
        raise UnsupportedDiff("quoted path")
    return path[2:] if path[:2] in ("a/", "b/") else path


class _Parser:
    """Splits a diff into FileChanges with their synthetic pre- and postimages."""

    def __init__(self) -> None:
        self.files: list[FileChange] = []
        self.current: FileChange | None = None
        self.remaining = (0, 0)  # preimage and postimage lines left in the current hunk
        self.last = ""  # the kind of the last hunk line: ' ', '-' or '+'

    def parse(self, diff: str) -> list[FileChange]:
        for line in diff.splitlines():
            if self.remaining != (0, 0):
                self._hunk_line(line)
            elif line.startswith("\\"):
                self._no_newline()
            else:
                self._header_line(line)
        if self.remaining != (0, 0):
            raise UnsupportedDiff("truncated hunk")
        return self.files

    def _start(self) -> FileChange:
        self.current = FileChange()
        self.files.append(self.current)
        return self.current

    def _header_line(self, line: str) -> None:
        current = self.current
        match = DIFF_GIT_RE.match(line)
        if match:
            current = self._start()
            current.old_path = _strip_prefix(match.group(1))
            current.new_path = _strip_prefix(match.group(2))
            return
        if line.startswith("--- "):
            if current is None or current.pre or current.post:
                current = self._start()  # a plain unified diff, without "diff --git"
            current.old_path = _strip_prefix(line[4:].split("\t")[0])
        elif current is None:
            return  # text before the first file (a diffstat, notes)
        elif line.startswith("+++ "):
            current.new_path = _strip_prefix(line[4:].split("\t")[0])
        elif line.startswith(("new file mode ", "deleted file mode ")):
            self._created_or_deleted(current, line)
        elif line.startswith("old mode "):
            current.old_mode = line.split()[-1]
        elif line.startswith("new mode "):
            current.new_mode = line.split()[-1]
        elif line.startswith(("rename from ", "copy from ")):
            current.old_path = line.split(" ", 2)[2]
        elif line.startswith(("rename to ", "copy to ")):
            current.new_path = line.split(" ", 2)[2]
        elif line.startswith("index ") and len(line.split()) == 3:
            current.old_mode = current.new_mode = line.split()[2]
        elif line.startswith(("GIT binary patch", "Binary files ")):
            # The content is not in the diff: stand-ins that differ as the blobs do.
            current.pre, current.post = ["binary (before)"], [f"binary {len(self.files)}"]
        else:
            self._hunk_header(line)

    def _created_or_deleted(self, current: FileChange, line: str) -> None:
        mode = line.split()[-1]
        if line.startswith("new"):
            current.old_path, current.new_mode = None, mode
        else:
            current.new_path, current.old_mode = None, mode

    def _hunk_header(self, line: str) -> None:
        match = HUNK_RE.match(line)
        if not match or self.current is None:
            return
        old_start, old_len, _, new_len = (int(g) if g is not None else 1 for g in match.groups())
        current = self.current
        # Lines before the hunk: the same blank stand-ins on both sides.
        before = old_start - 1 if old_len else old_start
        gap = before - len(current.pre)
        if gap < 0:
            raise UnsupportedDiff("overlapping hunks")
        current.pre.extend([""] * gap)
        current.post.extend([""] * gap)
        self.remaining = (old_len, new_len)

    def _hunk_line(self, line: str) -> None:
        current = self.current
        assert current is not None
        old_left, new_left = self.remaining
        kind, text = (line[:1] or " "), line[1:]
        if kind == " " and old_left and new_left:
            current.pre.append(text)
            current.post.append(text)
            self.remaining = (old_left - 1, new_left - 1)
        elif kind == "-" and old_left:
            current.pre.append(text)
            self.remaining = (old_left - 1, new_left)
        elif kind == "+" and new_left:
            current.post.append(text)
            self.remaining = (old_left, new_left - 1)
        elif kind == "\\":
            self._no_newline()
            return
        else:
            raise UnsupportedDiff(f"unexpected hunk line {line[:40]!r}")
        self.last = kind

    def _no_newline(self) -> None:
        current = self.current
        if current is None:
            return
        if self.last in (" ", "-"):
            current.pre_eol = False
        if self.last in (" ", "+"):
            current.post_eol = False


def parse_diff(diff: str) -> list[FileChange]:
    """The files a diff changes, with synthetic images (UnsupportedDiff if it cannot)."""
    files = _Parser().parse(diff or "")
    for change in files:
        if change.old_path is None and change.new_path is None:
            raise UnsupportedDiff("a file without a path")
    return files


# --- the fast-import stream ------------------------------------------------------------------


def _quote(path: str) -> bytes:
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'.encode()


def _data(text: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(text), text)


def _content(lines: list[str], eol: bool) -> bytes:
    if not lines:
        return b""
    text = "\n".join(lines) + ("\n" if eol else "")
    return text.encode("utf-8", "surrogateescape")


def _who(name: str, email: str, timestamp: int) -> bytes:
    address = UNSAFE_RE.sub("", email)
    clean = UNSAFE_RE.sub("", name) or address
    return f"{clean} <{address}> {timestamp} +0000".encode()


ROBOT = _who("range-diff", "range-diff@localhost", 0)


def _commit(ref: str, mark: int, message: str, parents: list[int], author: bytes) -> bytes:
    lines = [f"commit {ref}\nmark :{mark}\n".encode(), b"author " + author + b"\n"]
    lines.append(b"committer " + ROBOT + b"\n")
    lines.append(_data(message.encode("utf-8", "surrogateescape")))
    if parents:
        lines.append(b"from :%d\n" % parents[0])
        lines.extend(b"merge :%d\n" % p for p in parents[1:])
    return b"".join(lines)


def _image(files: list[FileChange], *, before: bool) -> bytes:
    out = []
    for change in files:
        path = change.old_path if before else change.new_path
        other = change.new_path if before else change.old_path
        if other is not None and other != path:
            out.append(b"D " + _quote(other) + b"\n")
        if path is None:
            continue
        lines, eol = (change.pre, change.pre_eol) if before else (change.post, change.post_eol)
        mode = change.old_mode if before else change.new_mode
        out.append(f"M {mode} inline ".encode() + _quote(path) + b"\n")
        out.append(_data(_content(lines, eol)))
    return b"".join(out)


ROOT, BASE = 1, 2  # marks of the two empty commits every series starts from


def fast_import_stream(series: list[list[PatchText]]) -> bytes:
    """A fast-import stream: refs/heads/s<N> holds series N's patches above refs/heads/base."""
    parts = [
        _commit("refs/heads/root", ROOT, "root\n", [], ROBOT),
        _commit("refs/heads/base", BASE, "base\n", [ROOT], ROBOT),
    ]
    mark = BASE
    for index, patches in enumerate(series):
        ref = f"refs/heads/s{index}"
        tip = ROOT
        for patch in patches:
            files = parse_diff(patch.diff)
            mark += 1
            parts.append(_commit(ref, mark, "preimage\n", [tip, BASE], ROBOT))
            parts.append(_image(files, before=True))
            mark += 1
            author = _who(patch.author_name, patch.author_email, patch.timestamp)
            text = patch.subject.strip() + "\n\n" + patch.message.strip() + "\n"
            parts.append(_commit(ref, mark, text, [mark - 1], author))
            parts.append(_image(files, before=False))
            tip = mark
        if not patches:
            parts.append(f"reset {ref}\nfrom :{BASE}\n".encode())
    parts.append(b"done\n")
    return b"".join(parts)
