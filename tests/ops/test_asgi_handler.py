"""The ASGI handler runs a request's middleware and view in one hop to its thread.

Django's own handler builds the chain async: a thread hop for each middleware's
process_request, process_view and process_response, about 17 a page, each a wake-up
of another thread (config/handlers.py).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import SyncToAsync
from django.core.signals import request_finished

from config.handlers import ASGIHandler


async def _get(application, path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if messages:
            return messages.pop()
        await asyncio.Future()  # the client stays until the handler cancels this wait
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    await application(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


@pytest.fixture
def hops(monkeypatch) -> list[str]:
    """The names of the sync functions the event loop hands to a thread."""
    names: list[str] = []
    original = SyncToAsync.__call__

    def counted(self, *args, **kwargs):
        names.append(getattr(self.func, "__qualname__", repr(self.func)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    return names


def test_a_request_takes_one_hop_for_its_middleware_and_view(hops, settings):
    settings.ENABLE_REST_API = True
    status, body = asyncio.run(_get(ASGIHandler(), "/api/1.4/"))
    assert status == 200
    assert b'"patches"' in body
    # request_started's receivers, the middleware chain with the view, request_finished's.
    assert len(hops) == 3, hops


def test_the_view_and_request_finished_share_a_thread(settings, monkeypatch):
    """So the database connection the view used goes back (request_finished closes the
    connections of the thread it runs in)."""
    settings.ENABLE_REST_API = True
    threads: dict[str, int] = {}
    original = ASGIHandler.get_response

    def get_response(self, request):
        threads["view"] = threading.get_ident()
        return original(self, request)

    def finished(**kwargs) -> None:
        threads["finished"] = threading.get_ident()

    monkeypatch.setattr(ASGIHandler, "get_response", get_response)
    request_finished.connect(finished)
    try:
        status, _ = asyncio.run(_get(ASGIHandler(), "/api/1.4/"))
    finally:
        request_finished.disconnect(finished)
    assert status == 200
    assert threads["view"] == threads["finished"] != threading.get_ident()
