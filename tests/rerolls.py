"""Real git mail, rewritten the way rerolls are sent (headers, subjects, trailers)."""

from __future__ import annotations

import re

from tests.mails import git_mails


def with_header(raw: bytes, name: str, value: str | None) -> bytes:
    """Replace, add or (value None) drop one header."""
    head, sep, body = raw.partition(b"\n\n")
    pattern = re.compile(
        rb"^" + name.encode() + rb":.*(\n[ \t].*)*(\n|$)", re.MULTILINE | re.IGNORECASE
    )
    line = b"" if value is None else f"{name}: {value}\n".encode()
    if pattern.search(head + b"\n"):
        head = pattern.sub(line, head + b"\n").rstrip(b"\n")
    elif value is not None:
        head = head + b"\n" + line.rstrip(b"\n")
    return head + sep + body


def unthreaded(raw: bytes) -> bytes:
    return with_header(with_header(raw, "In-Reply-To", None), "References", None)


def with_body_line(raw: bytes, line: str) -> bytes:
    """Add a line at the end of the body, above any signature (a trailer such as change-id)."""
    head, sep, signature = raw.rpartition(b"\n-- \n")
    if not sep:
        return raw.rstrip(b"\n") + b"\n" + line.encode() + b"\n"
    return head.rstrip(b"\n") + b"\n\n" + line.encode() + sep + signature


def v1() -> list[bytes]:
    return [p.read_bytes() for p in git_mails("v1")]


def v2() -> list[bytes]:
    return [p.read_bytes() for p in git_mails("v2")]
