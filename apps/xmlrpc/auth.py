"""HTTP Basic authentication for the XML-RPC methods declared with _udd={"auth": True}."""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth import authenticate
from spyne.error import InvalidCredentialsError

AUTH_REQUIRED = (
    "Authentication required: send the HTTP Basic credentials (username and password) "
    "of a Patchwork user"
)
AUTH_INVALID = "Authentication failed: invalid username or password"


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
    user = authenticate(request, username=credentials[0], password=credentials[1])
    if user is None or not user.is_active:
        raise InvalidCredentialsError(AUTH_INVALID)
    ctx.udc = user


def acting_user(ctx):
    """The user authenticated for this call."""
    return ctx.udc
