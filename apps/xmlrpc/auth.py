"""HTTP Basic authentication for the XML-RPC methods declared with _udd={"auth": True}."""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth import authenticate
from spyne.error import InvalidCredentialsError

from apps.accounts import throttle

AUTH_REQUIRED = (
    "Authentication required: send the HTTP Basic credentials (username and password) "
    "of a Patchwork user"
)
AUTH_INVALID = "Authentication failed: invalid username or password"
AUTH_THROTTLED = "Authentication refused: too many failed logins; try again later"


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(username, password) from an Authorization header, or None if it isn't Basic."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, sep, password = text.partition(":")
    return (username, password) if sep else None


def authenticate_method_call(ctx) -> None:
    """spyne method_call hook: authenticate the caller of methods that need it."""
    if not ctx.descriptor.udd.auth:
        return
    request = ctx.transport.req
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise InvalidCredentialsError(AUTH_REQUIRED)
    credentials = basic_credentials(header)
    if credentials is None:
        raise InvalidCredentialsError(AUTH_INVALID)
    username, password = credentials
    # The login form's counters, so that XML-RPC is no way around them.
    address = throttle.client_address(request)
    account = throttle.account_key(username)
    if throttle.login_blocked(account, address):
        raise InvalidCredentialsError(AUTH_THROTTLED)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        throttle.login_failed(account, address)
        raise InvalidCredentialsError(AUTH_INVALID)
    throttle.login_succeeded(account, address)
    ctx.udc = user


def acting_user(ctx):
    """The user authenticated for this call."""
    return ctx.udc
