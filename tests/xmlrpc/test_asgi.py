"""Absolute-form request targets reach the app as plain paths."""

from __future__ import annotations

import asyncio

import pytest

from apps.xmlrpc.asgi import absolute_form_paths, origin_form


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ("http://127.0.0.1:8000/xmlrpc/", "/xmlrpc/"),
        ("HTTPS://patchwork.example.com/xmlrpc", "/xmlrpc"),
        ("http://patchwork.example.com", "/"),
        ("http://host/api/patches/?project=x", "/api/patches/"),
        ("/xmlrpc/", None),
        ("/http://x/", None),
    ],
)
def test_origin_form(target, path):
    assert origin_form(target) == path


def test_middleware_rewrites_http_scopes_only():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)

    wrapped = absolute_form_paths(app)
    http = {"type": "http", "path": "http://h:1/xmlrpc/", "raw_path": b"http://h:1/xmlrpc/"}
    plain = {"type": "http", "path": "/xmlrpc/", "raw_path": b"/xmlrpc/"}
    websocket = {"type": "websocket", "path": "http://h:1/ws/"}
    for scope in (http, plain, websocket):
        asyncio.run(wrapped(scope, None, None))
    assert (seen[0]["path"], seen[0]["raw_path"]) == ("/xmlrpc/", b"/xmlrpc/")
    assert seen[1] == plain
    assert seen[2] == websocket
    assert http["path"] == "http://h:1/xmlrpc/"  # the caller's scope is left alone


def test_the_path_comes_from_the_raw_target_before_decoding():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)

    scope = {
        "type": "http",
        "path": "http://x/admin#/../api/",
        "raw_path": b"http://x/admin%23/../api/",
    }
    asyncio.run(absolute_form_paths(app)(scope, None, None))
    assert seen[0]["raw_path"] == b"/admin%23/../api/"
    assert seen[0]["path"] == "/admin#/../api/"
