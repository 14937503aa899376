"""People: who sent a mail, from its From header (and DMARC-munged list rewrites)."""

from __future__ import annotations

import email.utils
import re

from apps.mail.parse.errors import MailParseError

MAX_EMAIL = 255
MAX_NAME = 255
# Mailman archives hide addresses as "user at example.com".
_AT_RE = re.compile(r"([\w.+=-]+) at ([\w-]+(?:\.[\w-]+)+)")
_VIA_RE = re.compile(r"^(.*?)\s+via\s+\S.*$", re.IGNORECASE)


def parse_address(value: str) -> tuple[str, str]:
    """(name, email) from one decoded address header; email is '' when there is none."""
    value = (value or "").strip()
    if "@" not in value:
        value = _AT_RE.sub(r"\1@\2", value)
    name, address = email.utils.parseaddr(value)
    if "@" not in address:
        # parseaddr gives up on some broken headers; take the first thing that looks like one.
        match = re.search(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+", value)
        address = match.group(0) if match else ""
        name = name if match else ""
    name = " ".join(name.replace('"', "").split())
    return name, address.strip()


def parse_submitter(
    from_value: str, original_from: str = "", reply_to: str = ""
) -> tuple[str, str]:
    """The submitter's (name, email): From, unless a list rewrote it as "X via List"."""
    if not from_value.strip():
        raise MailParseError("no From header")
    name, address = parse_address(from_value)
    via = _VIA_RE.match(name)
    if via:
        for candidate in (original_from, reply_to):
            if candidate.strip():
                real_name, real_address = parse_address(candidate)
                if real_address:
                    name, address = real_name or via.group(1), real_address
                    break
    if not address:
        raise MailParseError("no e-mail address in the From header")
    if len(address) > MAX_EMAIL:
        raise MailParseError(f"sender address longer than {MAX_EMAIL} characters")
    if len(name) > MAX_NAME:
        name = name[: MAX_NAME - 1] + "…"
    return name, address
