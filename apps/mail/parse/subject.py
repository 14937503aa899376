"""Subjects: reply markers, bracketed prefixes, series markers and versions."""

from __future__ import annotations

import re
from dataclasses import dataclass

# "Re:", "RE :", "Re[2]:", "Fwd:", "Fw:" at the start, possibly repeated.
_REPLY_RE = re.compile(r"^\s*(re|fwd?)(\[\d+\])?\s*:\s*", re.IGNORECASE)
_PREFIX_RE = re.compile(r"^\s*\[([^\]]*)\]\s*")
# One prefix token: Mercurial's "1 of 3" stays whole, anything else splits on commas/space.
_TOKEN_RE = re.compile(r"\d+\s+of\s+\d+|[^,\s]+", re.IGNORECASE)
# "PATCH1/8", "PATCHv2": no space between PATCH and what follows.
_GLUED_RE = re.compile(r"^(patch)(v\d+|\d+/\d+)$", re.IGNORECASE)
_MARKER_RE = re.compile(r"^(\d{1,4})(?:/|\s+of\s+)(\d{1,4})$", re.IGNORECASE)
_VERSION_RE = re.compile(r"^v(\d{1,4})$", re.IGNORECASE)
_VERSION_IN_TEXT_RE = re.compile(r"\(v(\d{1,4})\)", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Subject:
    """A subject taken apart: what Patchwork needs to name and group a mail."""

    is_reply: bool
    prefixes: tuple[str, ...]
    title: str
    # Series marker N/M: number (0 for a cover letter) and total; None when absent.
    number: int | None
    total: int | None
    version: int

    def name(self, drop: tuple[str, ...] = ()) -> str:
        """The Patchwork name: prefixes other than PATCH and `drop` in one bracket, then the title."""
        dropped = {"patch", *(d.lower() for d in drop)}
        kept = [p for p in self.prefixes if p.lower() not in dropped]
        return f"[{','.join(kept)}] {self.title}" if kept else self.title


def split_prefix(bracket: str) -> list[str]:
    """The tokens of one bracketed prefix: "PATCH v2 1/3" -> PATCH, v2, 1/3."""
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(bracket):
        glued = _GLUED_RE.match(token)
        tokens.extend(glued.groups() if glued else [token])
    return tokens


def parse_subject(subject: str) -> Subject:
    """Split a (decoded, unfolded) subject into reply flag, prefixes, title, marker and version."""
    text = _SPACE_RE.sub(" ", subject or "").strip()
    is_reply = False
    prefixes: list[str] = []
    while True:
        # Reply markers count before the first bracket only: "[PATCH] Re: x" is named "Re: x".
        reply = None if prefixes else _REPLY_RE.match(text)
        if reply:
            is_reply = True
            text = text[reply.end() :]
            continue
        bracket = _PREFIX_RE.match(text)
        if bracket:
            for token in split_prefix(bracket.group(1)):
                if token not in prefixes:
                    prefixes.append(token)
            text = text[bracket.end() :]
            continue
        break
    number, total = parse_series_marker(prefixes)
    return Subject(
        is_reply=is_reply,
        prefixes=tuple(prefixes),
        title=text.strip(),
        number=number,
        total=total,
        version=parse_version(prefixes, text),
    )


def parse_series_marker(prefixes: list[str] | tuple[str, ...]) -> tuple[int | None, int | None]:
    """The N/M (or Mercurial "N of M") marker among the prefixes, if any."""
    for prefix in prefixes:
        match = _MARKER_RE.match(prefix)
        if match:
            number, total = int(match.group(1)), int(match.group(2))
            if total >= 1:
                return number, total
    return None, None


def parse_version(prefixes: list[str] | tuple[str, ...], title: str = "") -> int:
    """The version from a "v2" prefix (or "(v2)" in the title); 1 when absent."""
    for prefix in prefixes:
        match = _VERSION_RE.match(prefix)
        if match and int(match.group(1)) >= 1:
            return int(match.group(1))
    match = _VERSION_IN_TEXT_RE.search(title)
    if match and int(match.group(1)) >= 1:
        return int(match.group(1))
    return 1
