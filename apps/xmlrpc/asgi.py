"""ASGI middleware accepting absolute-form request targets (`POST http://host/xmlrpc/ HTTP/1.1`).

pwclient's XML-RPC transport always sends its request line in absolute form,
as to a proxy. HTTP/1.1 servers must accept it (RFC 9112, section 3.2.2) and
daphne does, but passes the whole URL on as the path, which no route matches.
This keeps only the path, so such requests reach the same view as any other.

The path is cut out of the raw target, before percent-decoding: decoded first,
`http://x/admin%23/../api/` would read as `/admin` with a fragment, a different
resource from the one the client named.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def origin_form(target: str) -> str | None:
    """The path of an absolute-form request target, or None if it is not one."""
    if not target[:8].lower().startswith(("http://", "https://")):
        return None
    return urlsplit(target).path or "/"


def _rewritten(scope) -> dict | None:
    raw = scope.get("raw_path")
    if raw:
        raw_path = origin_form(raw.decode("latin-1"))
        if raw_path is None:
            return None
        # Decoded the way daphne decodes any other request path.
        return dict(scope, path=unquote(raw_path), raw_path=raw_path.encode("latin-1"))
    path = origin_form(scope.get("path", ""))
    return None if path is None else dict(scope, path=path)


def absolute_form_paths(app):
    """Wrap an ASGI app so http requests with an absolute-form target see only its path."""

    async def middleware(scope, receive, send):
        if scope["type"] == "http":
            scope = _rewritten(scope) or scope
        return await app(scope, receive, send)

    return middleware
