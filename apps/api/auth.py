"""Who is calling the REST API: a token, HTTP Basic credentials, or the browser session.

``Authorization: Token <key>`` and ``Authorization: Basic …`` are checked first;
bad credentials are refused (403, as the reference server answers) rather than
silently treated as anonymous. Without an Authorization header the session
user is used, and unsafe methods then need a valid CSRF token, as forms do.
The mbox downloads use the same function, so private bundles download with a
token.
"""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone

from apps.accounts import throttle
from apps.accounts.models import APIToken
from apps.api.support import ApiError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# last_used is informational; don't write it on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _refuse(detail: str) -> ApiError:
    return ApiError(403, {"detail": detail})


def _token_user(request: HttpRequest, credentials: str):
    key = credentials.strip()
    if not key or " " in key:
        raise _refuse("Invalid token header. Token string should not contain spaces.")
    token = APIToken.objects.select_related("user").filter(digest=APIToken.digest_for(key)).first()
    if token is None or not token.user.is_active:
        # A valid token is always accepted (160 random bits are not guessed), so one
        # broken client behind a NAT never stops the others; wrong ones are told apart.
        if throttle.token_failed("api-token", throttle.client_address(request)):
            raise _refuse("Too many invalid tokens; try again later.")
        raise _refuse("Invalid token.")
    now = timezone.now()
    if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
        APIToken.objects.filter(pk=token.pk).update(last_used=now)
    return token.user


def _basic_user(request: HttpRequest, credentials: str):
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _refuse("Invalid basic header. Credentials not correctly base64 encoded.") from exc
    username, sep, password = decoded.partition(":")
    if not sep:
        raise _refuse("Invalid basic header. Credentials not correctly base64 encoded.")
    # The same counters as the login form, so the API is no way around them.
    address = throttle.client_address(request)
    account = throttle.account_key(username)
    if throttle.login_blocked(account, address):
        raise _refuse("Too many failed logins; try again later.")
    user = django_authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        throttle.login_failed(account, address)
        raise _refuse("Invalid username/password.")
    throttle.login_succeeded(account, address)
    return user


class _ApiCsrf(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> HttpResponseForbidden:
        # Report the reason as an API error, not an HTML page.
        raise _refuse(f"CSRF Failed: {reason}")


def _no_view(request: HttpRequest) -> HttpResponse:
    """Stands for the view and the next middleware: the CSRF checks never call them."""
    raise AssertionError("not called")


def _check_csrf(request: HttpRequest) -> None:
    middleware = _ApiCsrf(_no_view)
    # Django sets this attribute on the request ad hoc; the stubs do not declare it.
    request.csrf_processing_done = False  # type: ignore[attr-defined]
    middleware.process_request(request)
    middleware.process_view(request, _no_view, (), {})


def api_authenticate(request: HttpRequest):
    """The calling user (AnonymousUser if none); raises ApiError(403) on bad credentials."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "token":
        return _token_user(request, credentials)
    if scheme == "basic":
        return _basic_user(request, credentials)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return AnonymousUser()
    if request.method not in SAFE_METHODS:
        _check_csrf(request)
    return user
