"""Standard Webhooks signatures and the headers every webhook request carries."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings

USER_AGENT = "Patchwork-Webhooks/1.0"


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a "whsec_<base64>" secret."""
    encoded = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        # A secret not in base64 (set by hand) is used as it is.
        return encoded.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One "v1,<base64 HMAC-SHA256>" signature of "{id}.{timestamp}.{body}"."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per secret (two while a rotation overlaps)."""
    return " ".join(signature(secret, msg_id, timestamp, body) for secret in secrets)


def signature_verify(secret: str, msg_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any v1 signature in header was made with secret (constant-time compare)."""
    expected = signature(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())


def request_headers(
    *, secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes, category: str
) -> dict[str, str]:
    """Every header of a webhook request, signature included."""
    return {
        "Content-Type": "application/json",
        "User-Agent": f"{USER_AGENT} (+{settings.SITE_URL}/)",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "X-Patchwork-Event": category,
    }
