"""Helpers for live-page tests: websocket clients with a session, changes made elsewhere,
and the events they should hear."""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections, transaction
from django.test import Client

from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.services import patch_update
from config.asgi import application
from tests.factories import default_state, make_patch

# Consumers read the database from another thread: test data must be committed
# (the root conftest puts back the states and tags the migrations installed).
live_db = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_consumer_connections"),
]

ORIGIN = b"http://localhost"
# Communicators of the current test, disconnected at its end even if it failed: a
# consumer left running would block the event loop's shutdown on the Redis layer.
_opened: list[WebsocketCommunicator] = []


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def ws_open(
    path: str, user=None, *, origin: bytes = ORIGIN, cookie: str = "", extra_headers=()
):
    """A connected communicator for a live page, as `user` (anonymous if None)."""
    headers = [(b"host", b"localhost"), *extra_headers]
    if origin:
        headers.append((b"origin", origin))
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    _opened.append(communicator)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def ws_resume(communicator, last: int = 0, patches=None) -> dict:
    """Send the resume message and return the catch-up reply (patches: the rows a
    reconnecting page asks to have refreshed; a page just loaded sends none)."""
    message = {"type": "resume", "last": last}
    if patches is not None:
        message["patches"] = list(patches)
    await communicator.send_json_to(message)
    return await receive(communicator)


async def receive(communicator, timeout: float = 5) -> dict:
    return json.loads(await communicator.receive_from(timeout=timeout))


async def messages_until_quiet(communicator, quiet: float = 1.5) -> list[dict]:
    """Every message a page gets until it has been quiet for `quiet` seconds (changes
    committed together, or close together, come as one message or a few)."""
    messages = []
    # (receive_from's timeout would stop the consumer: wait with receive_nothing.)
    while not await communicator.receive_nothing(timeout=quiet, interval=0.05):
        messages.append(await receive(communicator))
    return messages


def run(func, *args, **kwargs):
    """Run a change in the database thread, as another process's request would."""
    return database_sync_to_async(func)(*args, **kwargs)


def new_patch(project, **fields):
    """A patch with its patch-created event, committed as mail ingestion would."""
    with transaction.atomic():
        patch = make_patch(project, **fields)
        event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
    return patch


def set_state(patch, slug, actor=None):
    return patch_update(patch=patch, actor=actor, state=default_state(slug))


def latest_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def event_ids(**filters) -> list[int]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("id", flat=True))


async def follow(path: str, user=None, *, cookie: str = ""):
    """A page at `path` connected and caught up to the latest event."""
    communicator, connected, _ = await ws_open(path, user, cookie=cookie)
    assert connected
    await ws_resume(communicator, last=await run(latest_event_id))
    return communicator


@pytest.fixture
async def close_consumer_connections():
    """Stop the test's consumers, close the connection of the thread they used for the DB."""
    yield
    while _opened:
        communicator = _opened.pop()
        try:
            await communicator.disconnect(timeout=5)
        except Exception:  # already gone, or never connected
            pass
    await database_sync_to_async(connections.close_all)()
