"""Pull requests: the repository URL (and branch) from `git request-pull` text."""

from __future__ import annotations

import re

_MARKER_RE = re.compile(r"are available in the git repository at:?[ \t]*", re.IGNORECASE)
_URL_RE = re.compile(
    r"^((?:git|ssh|git\+ssh|https?|rsync)://[^\s]+|[\w.+-]+@[\w.-]+:[^\s]+)$", re.IGNORECASE
)


def find_pull_url(text: str) -> str | None:
    """ "URL branch" from a request-pull body, also when wrapped or padded; None if absent."""
    marker = _MARKER_RE.search(text)
    if not marker:
        return None
    words: list[str] = []
    seen_text = False
    for line in text[marker.end() :].split("\n"):
        line = line.replace("\\", " ").strip()
        if not line:
            if seen_text:
                break
            continue
        seen_text = True
        if line.lower().startswith("for you to fetch"):
            break
        words.extend(line.split())
        if len(words) >= 2:
            break
    if not words or not _URL_RE.match(words[0]):
        return None
    return " ".join(words[:2])
