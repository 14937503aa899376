"""Websockets in the permission matrix: they carry no writes, and render per viewer.

A live patch page shows the triage form only to those who may change the patch;
anything a client sends that is not resume/ping is refused and changes nothing.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.patches.models import Patch
from apps.patches.services import patch_update
from config.asgi import application
from tests.factories import default_state
from tests.live.conftest import (  # noqa: F401 (the fixture live_db uses)
    ORIGIN,
    _opened,
    close_consumer_connections,
    live_db,
    receive,
    run,
    session_cookie,
)
from tests.security.conftest import PERSONAS
from tests.security.test_permission_matrix import PATCH_EDITORS

pytestmark = live_db
# Generous: the machine running the suite may be busy; nothing waits this long when it works.
TIMEOUT = 30


async def ws_open(path: str, user=None) -> WebsocketCommunicator:
    headers = [(b"host", b"localhost"), (b"origin", ORIGIN)]
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    # Disconnected by close_consumer_connections even if the test fails: a consumer left
    # running would hold the event loop's shutdown on the Redis layer.
    _opened.append(communicator)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


def latest_event() -> int:
    from apps.events.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("persona", PERSONAS)
async def test_live_patch_page_renders_triage_only_for_editors(world, persona):
    user = world.users[persona]
    communicator = await ws_open(f"/ws/patch/{world.patch.pk}/", user)
    await communicator.send_json_to({"type": "resume", "last": await run(latest_event)})
    await receive(communicator, timeout=TIMEOUT)

    # A client cannot write through the socket.
    await communicator.send_json_to({"type": "update", "state": "accepted", "last": 0})
    assert (await receive(communicator, timeout=TIMEOUT))["type"] == "error"
    patch = await run(Patch.objects.select_related("state").get, pk=world.patch.pk)
    assert patch.state.slug == "new"

    # A change made elsewhere arrives rendered for this viewer.
    maintainer = world.users["maintainer"]
    await run(
        lambda: patch_update(patch=patch, actor=maintainer, state=default_state("under-review"))
    )
    message = await receive(communicator, timeout=TIMEOUT)
    ids = {op["id"] for op in message["ops"]}
    html = " ".join(op.get("html", "") for op in message["ops"])
    assert ("patch-triage" in ids) == (persona in PATCH_EDITORS), ids
    if persona not in PATCH_EDITORS:
        assert 'name="csrfmiddlewaretoken"' not in html and "<select" not in html
    await communicator.disconnect()


async def test_a_private_bundle_has_no_live_page(world):
    # Live pages exist for lists, patches and series only: nothing private is reachable.
    communicator = await ws_open(f"/ws/bundle/{world.bundle.pk}/")
    assert await communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4404,
    }
