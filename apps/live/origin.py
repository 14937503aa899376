"""Websocket handshakes are accepted only from pages of this site.

Browsers send Origin with every websocket handshake and let any page open one
with the visitor's cookies, so the Origin must be this site exactly: scheme,
host and port, as the browser reached it. Comparing the hostname alone would
let another service on the same host (another port, or plain http beside
https) open live pages as the visitor.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _normalised(scheme: str, netloc: str) -> tuple[str, str, str] | None:
    host, port = split_domain_port(netloc.lower())
    if not host:
        return None
    return scheme.lower(), host, port or _DEFAULT_PORTS.get(scheme.lower(), "")


def _site_origin(scope) -> tuple[str, str, str] | None:
    """This site as the browser reached it: its Host, and https when TLS ended before us."""
    secure = scope.get("scheme") == "wss" or _header(scope, b"x-forwarded-proto") == "https"
    host = _header(scope, b"host")
    domain, _port = split_domain_port(host.lower())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return _normalised("https" if secure else "http", host)


def origin_allowed(scope) -> bool:
    """Whether the handshake's Origin is this site itself (or a CSRF-trusted origin)."""
    origin = _header(scope, b"origin")
    if not origin:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.path not in ("", "/") or parts.scheme not in _DEFAULT_PORTS:
        return False
    if origin.rstrip("/") in settings.CSRF_TRUSTED_ORIGINS:
        return True
    given = _normalised(parts.scheme, parts.netloc)
    return given is not None and given == _site_origin(scope)


def same_origin_only(application):
    """ASGI wrapper refusing websocket handshakes from any other origin."""

    async def middleware(scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await application(scope, receive, send)

    return middleware
