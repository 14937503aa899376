"""Headers: unfolding, RFC 2047 decoding, Message-IDs, references, dates, list ids."""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email.utils
import quopri
import re
from collections.abc import Iterable
from email.parser import BytesHeaderParser
from email.policy import compat32

from apps.mail.parse.errors import MailParseError

MAX_MSGID = 255
MAX_REFERENCES = 1000
_FOLD_RE = re.compile(r"\r?\n(?=[ \t])")
_NEWLINE_RE = re.compile(r"[\r\n]+")
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS_RE = re.compile(r"^[ \t]+$")
_MSGID_RE = re.compile(r"<([^<>]+)>")
_ANGLE_RE = re.compile(r"<([^<>\s]+)>")


def unfold(value: str) -> str:
    """Join a folded header onto one line (CRLF/LF followed by whitespace)."""
    return _NEWLINE_RE.sub(" ", _FOLD_RE.sub("", value)).strip()


def to_text(value: str) -> str:
    """A header value as parsed from bytes (surrogate-escaped 8-bit) turned into clean text."""
    raw = value.encode("utf-8", "surrogateescape")
    return decode_bytes(raw, None).replace("\x00", "")


def charset_codec(charset: str | None) -> str | None:
    """The Python codec for a MIME charset name, or None when unknown."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    aliases = {
        "unknown-8bit": None,
        "x-unknown": None,
        "us-ascii": "ascii",
        "ansi_x3.4-1968": "ascii",
    }
    if name in aliases:
        return aliases[name]
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text: the declared charset, else UTF-8, else replacement characters."""
    codec = charset_codec(charset)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
    # Wrong or unknown charsets degrade to replacement characters, never to a crash.
    return data.decode(codec or "utf-8", "replace")


def _decode_word(encoding: str, text: str) -> bytes:
    if encoding.upper() == "B":
        text = text + "=" * (-len(text) % 4)
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", "replace"), header=True)


def decode_header(value: str | None) -> str:
    """Decode RFC 2047 encoded words and raw 8-bit text; unfold; never fail."""
    if not value:
        return ""
    text = unfold(to_text(str(value)))
    if "=?" not in text:
        return text
    out: list[str] = []
    # Adjacent encoded words in one charset are joined as bytes first: a multi-byte
    # character may be split across them.
    pending: list[bytes] = []
    pending_charset: str | None = None
    position = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset))
        pending, pending_charset = [], None

    for match in _ENCODED_WORD_RE.finditer(text):
        between = text[position : match.start()]
        if between and not (_BETWEEN_WORDS_RE.match(between) and pending):
            flush()
            out.append(between)
        charset = match.group(1)
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        pending_charset = charset
        pending.append(_decode_word(match.group(2), match.group(3)))
        position = match.end()
    flush()
    out.append(text[position:])
    return "".join(out).replace("\x00", "")


def parse_msgid(value: str | None) -> str:
    """A Message-ID with angle brackets, or MailParseError when missing or unusable."""
    text = decode_header(value)
    match = _MSGID_RE.search(text)
    msgid = "".join(match.group(1).split()) if match else "".join(text.split()[:1])
    if not msgid:
        raise MailParseError("no Message-ID header")
    msgid = f"<{msgid}>"
    if len(msgid) > MAX_MSGID:
        raise MailParseError(f"Message-ID longer than {MAX_MSGID} characters")
    return msgid


def parse_references(
    in_reply_to: Iterable[str], references: Iterable[str], msgid: str
) -> list[str]:
    """The Message-IDs a mail answers, oldest first, its direct parent (In-Reply-To) last."""
    refs: list[str] = []
    for value in references:
        refs.extend(f"<{m}>" for m in _ANGLE_RE.findall(decode_header(value)))
    parents: list[str] = []
    for value in in_reply_to:
        parents.extend(f"<{m}>" for m in _ANGLE_RE.findall(decode_header(value)))
    # A dict keeps insertion order: re-inserting moves a repeated id last, in linear time
    # (a list's remove() made a header of many thousand ids take minutes).
    ordered: dict[str, None] = {}
    for ref in [*refs, *parents[:1]]:
        ordered.pop(ref, None)
        ordered[ref] = None
    kept = [ref for ref in ordered if ref != msgid and len(ref) <= MAX_MSGID]
    # The closest ancestors are last; a thread deeper than this is hostile, not a discussion.
    return kept[-MAX_REFERENCES:]


def parse_date(value: str | None) -> dt.datetime | None:
    """The Date header as an aware UTC datetime, or None when absent or nonsensical."""
    text = decode_header(value)
    if not text:
        return None
    try:
        date = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if date is None or not 1970 <= date.year <= 9999:
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    try:
        return date.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def parse_list_ids(headers: list[tuple[str, str]]) -> list[str]:
    """Candidate list identifiers, best first: List-Id, then the older list headers."""
    found: list[str] = []

    def add(candidate: str) -> None:
        candidate = candidate.strip().strip("<>").strip().lower()
        if candidate and candidate not in found:
            found.append(candidate)

    by_name: dict[str, list[str]] = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(decode_header(value))
    for value in by_name.get("list-id", []):
        match = _ANGLE_RE.search(value)
        add(match.group(1) if match else (value.split() or [""])[-1])
    for header in ("x-mailing-list", "x-list", "mailing-list", "x-beenthere"):
        for value in by_name.get(header, []):
            match = _ANGLE_RE.search(value)
            if match:
                add(match.group(1))
                continue
            # ezmlm: "list foo@example.org; contact foo-help@example.org"
            words = value.replace(";", " ").split()
            if words and words[0].lower() == "list" and len(words) > 1:
                add(words[1])
            elif words:
                add(words[0])
    for value in by_name.get("list-post", []):
        match = re.search(r"<mailto:([^>?\s]+)", value, re.IGNORECASE)
        if match:
            add(match.group(1))
    return found


def headers_text(headers: list[tuple[str, str]]) -> str:
    """The header block as stored: each "Name: value" as received, in order.

    Folding ("\\n\\t", "\\n "), trailing spaces and RFC 2047 encoded words stay as
    sent, so the APIs can show them verbatim (as Patchwork does); only 8-bit bytes,
    which are text in no declared charset, are decoded (UTF-8, else replaced).
    Line ends are LF. `headers` are compat32's raw items (value without the space
    after the colon)."""
    return "\n".join(f"{name}: {_verbatim(value)}" for name, value in headers)


def headers_block(raw: bytes) -> str:
    """headers_text() of a raw message, reading its header block only."""
    parsed = BytesHeaderParser(policy=compat32).parsebytes(raw.replace(b"\x00", b""))
    return headers_text([(str(k), str(v)) for k, v in parsed.raw_items()])


def _verbatim(value: str) -> str:
    return to_text(value).replace("\r\n", "\n")


# How much of a message peek_msgid reads (the headers of any sane mail).
PEEK_BYTES = 64 * 1024


def peek_msgid(raw: bytes) -> str:
    """The Message-ID as written, for listing and resuming; '' when there is none."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:PEEK_BYTES])
        value = str(headers.get("Message-Id", ""))
    except Exception:  # intake never fails on content; parsing reports it later
        return ""
    try:
        return parse_msgid(value)
    except MailParseError:
        return decode_header(value)[:255]
