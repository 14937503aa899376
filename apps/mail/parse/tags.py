"""Tags: trailers such as Acked-by counted from a patch and its comments."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

_FLAGS = re.MULTILINE | re.IGNORECASE


def find_trailers(content: str, patterns: Mapping[int, str]) -> set[tuple[int, str]]:
    """(tag id, normalised value) for every tag line in content; bad patterns are skipped."""
    found: set[tuple[int, str]] = set()
    if not content:
        return found
    text = content.replace("\xa0", " ")
    for tag_id, pattern in patterns.items():
        try:
            regex = re.compile(f"(?:{pattern})" + r"[ \t]*(.*)$", _FLAGS)
        except re.error:
            continue
        for value in regex.findall(text):
            found.add((tag_id, " ".join(value.split()).lower()))
    return found


def count_tags(trailer_sets: Iterable[set[tuple[int, str]]]) -> Counter:
    """Tag id -> count, the same trailer (tag and value) counted once across all sets."""
    union: set[tuple[int, str]] = set()
    for trailers in trailer_sets:
        union |= trailers
    return Counter(tag_id for tag_id, _ in union)
