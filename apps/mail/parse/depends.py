"""Depends-on: trailers naming the patches or series a submission needs first."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from apps.projects.params import is_id, parse_id
from apps.series.dependencies import Dependency

_DEPENDS_RE = re.compile(r"^Depends-on:[ \t]*(\S.*?)\s*$", re.MULTILINE | re.IGNORECASE)


__all__ = ["Dependency", "parse_dependency", "parse_depends_on"]


def parse_depends_on(content: str) -> list[Dependency]:
    """Every Depends-on trailer in content that names something we can look up."""
    found: list[Dependency] = []
    for value in _DEPENDS_RE.findall(content or ""):
        dependency = parse_dependency(value)
        if dependency and dependency not in found:
            found.append(dependency)
    return found


def parse_dependency(value: str) -> Dependency | None:
    """One Depends-on value: "<msgid>", a series URL (?series=N, /series/N/) or a patch/cover URL."""
    value = value.strip()
    if value.startswith("<") and value.endswith(">") and len(value) > 2:
        return Dependency(msgid=value)
    if "://" not in value:
        return Dependency(msgid=f"<{value}>") if "@" in value and " " not in value else None
    url = urlsplit(value)
    series = parse_qs(url.query).get("series", [])
    if series and is_id(series[0]):
        return Dependency(series_id=parse_id(series[0]))
    parts = [unquote(p) for p in url.path.split("/") if p]
    for kind in ("series", "patch", "cover"):
        if kind in parts and parts.index(kind) + 1 < len(parts):
            key = parts[parts.index(kind) + 1]
            if is_id(key):
                number = parse_id(key)
                if kind == "series":
                    return Dependency(series_id=number)
                return (
                    Dependency(patch_id=number) if kind == "patch" else Dependency(cover_id=number)
                )
            if kind != "series" and "@" in key:
                return Dependency(msgid=f"<{key}>")
    return None
