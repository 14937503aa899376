"""Stored links that end up in an ``href``: http(s) only, checked when written and when shown.

A project's URLs are typed by its maintainers and shown to everyone, an admin
included; a ``javascript:`` or ``data:`` link there would run script in the
site's origin for whoever clicks it. Writes refuse such values (the model
validator, so REST, the admin and every other write path agree) and the
templates render every stored URL through ``http_url``, so a value written
before the check (or straight into the database) is still never a link.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# Browsers drop tabs and newlines anywhere in a URL and control characters and spaces
# around it ("java\tscript:", " javascript:"): a value with any of them is refused whole.
_HTTP_URL = re.compile(r"https?://[^\s/?#\\]+(?:[/?#][^\s]*)?", re.IGNORECASE | re.ASCII)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")

MESSAGE = "Enter a URL starting with http:// or https://."


def http_url(value: str | None) -> str:
    """The value if it is an http(s) URL, else '' (never a link with another scheme)."""
    value = (value or "").strip()
    if not value or _CONTROL.search(value) or not _HTTP_URL.fullmatch(value):
        return ""
    return value


def validate_http_url(value: str) -> None:
    """Model validator: blank, or an http(s) URL."""
    if value and http_url(value) != value:
        raise ValidationError(MESSAGE, code="invalid")


def validate_http_url_format(value: str) -> None:
    """Model validator for a URL format: blank, or an http(s) URL once '{}' is filled in."""
    filled = value.replace("{}", "x")
    if value and http_url(filled) != filled:
        raise ValidationError(MESSAGE, code="invalid")
