"""Helpers for page tests."""

from __future__ import annotations


def htmx_headers(target: str | None = None) -> dict:
    headers = {"HTTP_HX_REQUEST": "true"}
    if target:
        headers["HTTP_HX_TARGET"] = target
    return headers
