"""Site-wide request and response rules: refuse NUL in what a client sends; security headers.

- ``RejectNulMiddleware``: a NUL character in the path, the query string or a
  page's form is a 400 before any view runs. PostgreSQL text cannot hold a NUL,
  so a lookup with one fails in the database (a 500); judging it here covers
  every page, API version, download and the XML-RPC and mail endpoints at once.
  REST bodies are judged where they are parsed (``apps.api.support.parse_body``),
  with per-field messages; XML-RPC arguments in ``apps/xmlrpc/rpc.py``.
- ``SecurityHeadersMiddleware``: a Content-Security-Policy and a Permissions-Policy
  on every response. No inline script anywhere (templates load static files
  only), so a script injected into a page would not run.
"""

from __future__ import annotations

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils.deprecation import MiddlewareMixin

from apps.api.support import json_response
from apps.projects.params import NUL_MESSAGE, nul_fields


def _nul_in(values) -> bool:
    return any("\x00" in key or "\x00" in "".join(values.getlist(key)) for key in values)


class RejectNulMiddleware(MiddlewareMixin):
    # MiddlewareMixin: sync and async alike, so async views (streamed downloads) are not
    # pushed into a thread whose database connection nobody closes.
    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            # No object has such a name: the REST API answers as for any unknown one.
            if request.path.startswith("/api/"):
                return json_response({"detail": "Not found."}, status=404)
            return _refused(request)
        if _nul_in(request.GET):
            return _refused(request, request.GET)
        return None

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        # Forms of the pages. The CSRF-exempt views (REST, XML-RPC, mail intake) read
        # their bodies themselves, and the REST API judges them field by field.
        if request.method == "POST" and not getattr(view, "csrf_exempt", False):
            if _nul_in(request.POST):
                return _refused(request, request.POST)
        return None


def _refused(request: HttpRequest, values: QueryDict | None = None) -> HttpResponse:
    if request.path.startswith("/api/") and values is not None:
        # As every other malformed parameter of the REST API: its name and the message.
        return json_response(nul_fields({key: values.getlist(key) for key in values}), status=400)
    return HttpResponseBadRequest(
        f"Bad request: {NUL_MESSAGE}\n", content_type="text/plain; charset=utf-8"
    )


# Same-origin everything; no inline script or style, no plugins, no framing, no <base>.
# connect-src names the websocket schemes too: older browsers do not count ws(s) as 'self'.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' {websockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def content_security_policy(request: HttpRequest) -> str:
    try:
        host = request.get_host()
    except DisallowedHost:  # a refused Host header: its 400 still gets the policy
        host = ""
    websockets = f"ws://{host} wss://{host}" if host else ""
    return CONTENT_SECURITY_POLICY.format(websockets=websockets).replace(" ;", ";")


class SecurityHeadersMiddleware(MiddlewareMixin):
    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response.headers.setdefault("Content-Security-Policy", content_security_policy(request))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
