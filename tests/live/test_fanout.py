"""A broadcast reaches a process's open pages in one pass: one rendering and one encoding
per kind of viewer, and one message text shared by every socket that gets the same bytes."""

from __future__ import annotations

import asyncio
import json
import re
from unittest import mock

from django.conf import settings
from django.utils.crypto import get_random_string

from apps.live import fanout, render
from apps.live.hub import Hub
from tests.factories import make_patch, make_series, make_user
from tests.live.conftest import follow, live_db, run, session_cookie, set_state

pytestmark = live_db

OUTPUT_TIMEOUT = 5
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def sent_text(communicator) -> str:
    """The text the consumer handed to the server for this socket (the very object)."""
    message = await communicator.receive_output(timeout=OUTPUT_TIMEOUT)
    assert message["type"] == "websocket.send"
    return message["text"]


async def test_pages_of_a_kind_get_one_rendering_one_encoding_and_the_same_text(
    project, maintainer
):
    patch = await run(make_patch, project)
    anonymous = [await follow(f"/ws/list/{project.pk}/") for _ in range(4)]
    signed_in = [await follow(f"/ws/list/{project.pk}/", maintainer) for _ in range(2)]
    with mock.patch.object(render, "page_ops", wraps=render.page_ops) as rendering:
        await run(set_state, patch, "accepted", maintainer)
        texts = [await sent_text(c) for c in anonymous + signed_in]
    assert rendering.call_count == 2  # two kinds of viewer
    # The same str object went to every socket of a kind: nothing was encoded or built
    # per socket.
    assert len({id(text) for text in texts[:4]}) == 1
    assert len({id(text) for text in texts[4:]}) == 1
    anon, mine = json.loads(texts[0]), json.loads(texts[4])
    assert anon["events"] == mine["events"] and anon["replay"] is False
    assert 'name="patch_id"' not in anon["ops"][0]["html"]
    assert 'name="patch_id"' in mine["ops"][0]["html"]
    assert "Accepted" in anon["ops"][0]["html"] and "Accepted" in mine["ops"][0]["html"]


async def test_a_shared_text_still_carries_each_viewers_own_csrf_token(project, maintainer):
    series = await run(make_series, project, name="Frob", total=1)
    patch = await run(make_patch, project, series=series, number=1)
    other = await run(make_user, "other-maintainer")
    await run(project.maintainers.add, other)
    path = f"/ws/serieslist/{project.pk}/"
    pages = []
    for user in (maintainer, maintainer, other):
        secret = get_random_string(32)
        cookie = f"{await run(session_cookie, user)}; {settings.CSRF_COOKIE_NAME}={secret}"
        pages.append(await follow(path, cookie=cookie))
    with mock.patch.object(render, "page_ops", wraps=render.page_ops) as rendering:
        await run(set_state, patch, "accepted", maintainer)
        texts = [await sent_text(c) for c in pages]
    assert rendering.call_count == 1  # three maintainers' pages, one kind of viewer
    # One text per token: each page its own (tests/live/test_viewer_kinds.py checks that
    # each passes Django's CSRF check with its own cookie), no placeholder left.
    assert all(render.CSRF_PLACEHOLDER not in text for text in texts)
    tokens = [TOKEN.findall(json.loads(text)["ops"][0]["html"]) for text in texts]
    assert all(len(found) == 1 for found in tokens)
    assert len({found[0] for found in tokens}) == 3


class Page:
    """A page as the hub sees it."""

    def __init__(self, live: bool):
        self.live = live
        self.inbox: asyncio.Queue = asyncio.Queue()


async def test_the_hub_sends_to_live_pages_in_one_pass_and_queues_for_the_others(settings):
    settings.LIVE_COALESCE_SECONDS = 0
    hub = Hub(layer=None)
    following, catching_up = [Page(True) for _ in range(3)], Page(False)
    hub.members["project-1"] = {*following, catching_up}
    passes: list[tuple[dict, list]] = []
    release = asyncio.Event()

    async def deliver(batch, members):
        passes.append((batch, members))
        await release.wait()

    with mock.patch.object(fanout, "deliver", deliver):
        hub.arrived({"group": "project-1", "refs": [{"event_id": 1, "uid": "1"}]})
        await asyncio.sleep(0)
        [(batch, members)] = passes
        assert set(members) == set(following)  # one pass for every live page
        assert catching_up.inbox.get_nowait() is batch  # the other sends it after catching up
        hub.arrived({"group": "project-1", "refs": [{"event_id": 2, "uid": "2"}]})
        hub.done(batch)  # the page catching up has sent it; the pass has not finished
        await asyncio.sleep(0)
        assert len(passes) == 1
        release.set()
        await asyncio.sleep(0.05)
        assert len(passes) == 2 and [r["event_id"] for r in passes[1][0]["refs"]] == [2]
