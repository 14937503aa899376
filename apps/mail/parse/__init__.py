"""Parsing mail: pure functions from raw bytes to what Patchwork stores. No database here.

`parse_mail` is the one entry point used by ingestion; the modules below do the
work (headers, subject, people, content, diff, pull, tags, hashing, depends).
"""

from __future__ import annotations

import datetime as dt
import email
import email.message
import email.policy
from dataclasses import dataclass, field

from apps.mail.parse.content import clean_content, text_parts
from apps.mail.parse.depends import Dependency, parse_depends_on
from apps.mail.parse.diff import split_patch
from apps.mail.parse.errors import MailParseError
from apps.mail.parse.hashing import hash_diff
from apps.mail.parse.headers import (
    decode_header,
    headers_text,
    parse_date,
    parse_list_ids,
    parse_msgid,
    parse_references,
)
from apps.mail.parse.people import parse_submitter
from apps.mail.parse.pull import find_pull_url
from apps.mail.parse.subject import Subject, parse_subject

__all__ = ["MailParseError", "ParsedMail", "parse_mail", "hash_diff"]


@dataclass
class ParsedMail:
    """Everything ingestion needs from one mail, independent of any project."""

    msgid: str
    refs: list[str]
    subject: Subject
    raw_subject: str
    date: dt.datetime | None
    name: str
    email: str
    headers: str
    list_ids: list[str]
    hint: str = ""
    delegate_email: str = ""
    state_name: str = ""
    # X-Patchwork-Action-Required, whatever its value: the comment starts unaddressed.
    action_required: bool = False
    # The whole text (for comments and cover letters) and the patch split (diff + the rest).
    body: str = ""
    diff: str | None = None
    message: str = ""
    pull_url: str | None = None
    depends_on: list[Dependency] = field(default_factory=list)
    # The diff's hash, made with the rest of the parse: by a parse worker, off the writer.
    hash: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.hash = hash_diff(self.diff) if self.diff else None

    @property
    def is_patch(self) -> bool:
        return bool(self.diff or self.pull_url)


def message_from_bytes(raw: bytes) -> email.message.Message:
    """The stdlib parse every part of the system shares (compat32: lenient, keeps raw headers)."""
    return email.message_from_bytes(raw, policy=email.policy.compat32)


# Real patch mail has a handful of MIME parts; thousands of tiny ones only cost memory
# (a Message object each) and time, so parsing stops at this many.
MAX_PARTS = 1000


def _counting_message_class(limit: int) -> type[email.message.Message]:
    """A Message class that refuses to be instantiated more than `limit` times."""
    made = 0

    class CountedMessage(email.message.Message):
        def __init__(self, policy=email.policy.compat32):
            nonlocal made
            made += 1
            if made > limit:
                raise MailParseError(f"more than {limit} MIME parts")
            super().__init__(policy)

    return CountedMessage


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse a raw RFC 822 message; MailParseError says why one cannot be used."""
    message = _parse_message(raw)
    headers = [(str(k), str(v)) for k, v in message.raw_items()]
    if not headers:
        raise MailParseError("no headers")

    def first(name: str) -> str:
        lowered = name.lower()
        return next((v for k, v in headers if k.lower() == lowered), "")

    def every(name: str) -> list[str]:
        lowered = name.lower()
        return [v for k, v in headers if k.lower() == lowered]

    msgid = parse_msgid(first("Message-Id"))
    name, address = parse_submitter(
        decode_header(first("From")),
        decode_header(first("X-Original-From")),
        decode_header(first("Reply-To")),
    )
    raw_subject = decode_header(first("Subject"))
    body, diff, message_text = _split_text(text_parts(message))
    return ParsedMail(
        msgid=msgid,
        refs=parse_references(every("In-Reply-To"), every("References"), msgid),
        subject=parse_subject(raw_subject),
        raw_subject=raw_subject,
        date=parse_date(first("Date")),
        name=name,
        email=address,
        headers=headers_text(headers),
        list_ids=parse_list_ids(headers),
        hint=decode_header(first("X-Patchwork-Hint")).strip().lower(),
        delegate_email=decode_header(first("X-Patchwork-Delegate")).strip(),
        state_name=decode_header(first("X-Patchwork-State")).strip(),
        action_required=bool(every("X-Patchwork-Action-Required")),
        body=body,
        diff=diff,
        message=message_text,
        pull_url=find_pull_url(message_text),
        depends_on=parse_depends_on(body),
    )


def _parse_message(raw: bytes) -> email.message.Message:
    """The stdlib's parse of raw, its failures (and too many MIME parts) as MailParseError."""
    if not raw or not raw.strip():
        raise MailParseError("empty message")
    try:
        return email.message_from_bytes(
            raw.replace(b"\x00", b""),
            _class=_counting_message_class(MAX_PARTS),
            policy=email.policy.compat32,
        )
    except MailParseError:
        raise
    except RecursionError as exc:  # the stdlib parser recurses once per nesting level
        raise MailParseError("MIME parts nested too deeply") from exc
    except Exception as exc:  # the stdlib parser is lenient; anything here is pathological
        raise MailParseError(f"unparseable message: {exc}") from exc


def _split_text(parts: list[tuple[str, str]]) -> tuple[str, str | None, str]:
    """(body, diff, message) of a mail's text parts: the whole plain text, the diffs of
    every part, and the plain text without its diffs."""
    plain = [text for kind, text in parts if kind == "plain"]
    body = clean_content("\n".join(text.strip("\n") for text in plain))
    diffs: list[str] = []
    messages: list[str] = []
    for kind, text in parts:
        diff, rest = split_patch(text)
        if diff:
            diffs.append(diff)
        if kind == "plain" and rest.strip():
            messages.append(rest.strip("\n"))
    return body, "".join(diffs) or None, clean_content("\n".join(messages))
