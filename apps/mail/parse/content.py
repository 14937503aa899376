"""Message bodies: text parts, transfer encodings, charsets, signatures."""

from __future__ import annotations

import binascii
import re
from email.message import Message

from apps.mail.parse.errors import MailParseError
from apps.mail.parse.headers import decode_bytes

# A signature ("-- ") or a list footer (a line of underscores) ends what we keep.
_SIGNATURE_RE = re.compile(r"^(-- |_+)$.*", re.MULTILINE | re.DOTALL)
_DIFF_SUBTYPES = {"x-patch", "x-diff"}
_PATCH_FILENAME_RE = re.compile(r"\.(patch|diff)$", re.IGNORECASE)


def clean_content(text: str) -> str:
    """Text without signature or list footer, stripped."""
    return _SIGNATURE_RE.sub("", text).strip()


def _payload_bytes(part: Message) -> bytes:
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte == "base64":
        payload = part.get_payload(decode=False)
        if isinstance(payload, list):
            return b""
        data = "".join(str(payload).split()).encode("ascii", "ignore")
        data += b"=" * (-len(data) % 4)
        try:
            return binascii.a2b_base64(data)
        except binascii.Error as exc:
            raise MailParseError(f"a text part has broken base64 ({exc})") from exc
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def part_text(part: Message) -> str:
    """A text part decoded: transfer encoding, then charset (declared, UTF-8, replacement)."""
    text = decode_bytes(_payload_bytes(part), part.get_content_charset())
    return text.replace("\x00", "").replace("\r\n", "\n")


def text_parts(message: Message) -> list[tuple[str, str]]:
    """(kind, text) for each part that can hold a message or a patch; kind is 'plain' or 'diff'."""
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        maintype, subtype = part.get_content_maintype(), part.get_content_subtype()
        filename = part.get_filename() or ""
        if maintype == "text" and subtype in _DIFF_SUBTYPES:
            parts.append(("diff", part_text(part)))
        elif maintype == "text" and subtype == "plain":
            parts.append(("plain", part_text(part)))
        elif maintype == "application" and (
            subtype in _DIFF_SUBTYPES
            or (subtype == "octet-stream" and _PATCH_FILENAME_RE.search(str(filename)))
        ):
            parts.append(("diff", part_text(part)))
    return parts
