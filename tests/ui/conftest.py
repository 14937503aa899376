"""Helpers for page tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def htmx_headers(target: str | None = None) -> dict:
    headers = {"HTTP_HX_REQUEST": "true"}
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Page tests log users in, they don't test hashing: use a cheap hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
