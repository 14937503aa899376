"""One batch to many open pages: rendered once per kind, encoded once, the same text to all.

The hub hands a group's batch to every page of the group that is following it
live in one pass (hub.py). Pages showing the same page to viewers of the same
kind share one rendering and one JSON encoding of it; pages
that were also sent the same cursor and carry the same CSRF token (anonymous
viewers: none) share the final message text, and the pass writes that one str
to each socket. So a broadcast costs a process one render a kind plus a send a
socket, with no task, future or encoding per socket: with a thousand open pages
the send is what is left (docs/benchmarks.md, "Second pass: 1,000 clients").

Every rendering of the batch runs in one trip to the database thread, before the
first send: the sends would otherwise hold the event loop (and the GIL) while
the second kind of viewer's rendering waits for them.

Sending does not wait for the network: daphne (Twisted) buffers what a slow
socket has not taken yet, so one slow page does not hold the pass back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from channels.db import database_sync_to_async

from apps.live import render
from apps.live.pages import LivePage
from apps.live.render import CSRF_PLACEHOLDER, Viewer

log = logging.getLogger(__name__)


class Follower(Protocol):
    """An open page as the pass sees it (consumers.LiveConsumer)."""

    page: LivePage | None
    viewer: Viewer
    viewer_kind: Hashable
    csrf_token: str

    def batch_refs(self, batch: dict) -> list[dict]: ...

    def batch_sent(self, ids: list[int]) -> int: ...

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None: ...


@dataclass
class Plan:
    """One rendering of a batch: the pages that share it and what it produced."""

    page: LivePage
    viewer: Viewer
    refs: list[dict]
    followers: list[Follower] = field(default_factory=list)
    ops: list[dict] | None = None  # None: the rendering failed (logged)
    ops_json: str = ""


def events_text(
    ids: list[int], cursor: int, ops_json: str, *, replay: bool, csrf_token: str
) -> str:
    """The "events" message (see consumers.py), its fragments carrying this token."""
    text = (
        f'{{"type": "events", "events": {json.dumps(ids)}, "cursor": {cursor}, '
        f'"replay": {"true" if replay else "false"}, "ops": {ops_json}}}'
    )
    if CSRF_PLACEHOLDER in ops_json:
        text = text.replace(CSRF_PLACEHOLDER, csrf_token)
    return text


def batch_plans(batch: dict, followers: Sequence[Follower]) -> list[Plan]:
    """The renderings this batch needs, each with the pages it goes to (a page that has
    already seen all of the batch gets none)."""
    plans: dict[tuple, Plan] = {}
    for follower in followers:
        page = follower.page
        if page is None:
            continue
        refs = follower.batch_refs(batch)
        if not refs:
            continue
        # Pages that kept only part of the batch (heard the rest through another group)
        # share a rendering with those that kept the same part.
        part = tuple(ref["uid"] for ref in refs) if len(refs) < len(batch["refs"]) else ()
        key = (page.render_key, follower.viewer_kind, part)
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = Plan(page=page, viewer=follower.viewer, refs=refs)
        plan.followers.append(follower)
    return list(plans.values())


def plans_render(plans: list[Plan]) -> None:
    """Render and encode each plan (in the database thread); one that fails is logged and
    left out, the others go."""
    with render.reads_shared():  # the kinds of viewer of a page read its rows once
        for plan in plans:
            try:
                plan.ops = render.page_ops(plan.page, plan.viewer, plan.refs)
            except Exception:
                # One fragment that fails to render must not take the pages offline.
                log.exception("live: could not render %s for %s", plan.refs, plan.page)
                continue
            plan.ops_json = json.dumps(plan.ops)


async def deliver(batch: dict, followers: Sequence[Follower]) -> None:
    """Send a batch to these pages, each getting what it changes for its viewer."""
    plans = batch_plans(batch, followers)
    if not plans:
        return
    await database_sync_to_async(plans_render)(plans)
    for plan in plans:
        if plan.ops is None:
            continue
        ids = [ref["event_id"] for ref in plan.refs if ref["event_id"] is not None]
        has_forms = CSRF_PLACEHOLDER in plan.ops_json
        texts: dict[tuple[int, str], str] = {}
        for follower in plan.followers:
            cursor = follower.batch_sent(ids)
            if not plan.ops:  # nothing on the page changed (the cursor catches up next time)
                continue
            key = (cursor, follower.csrf_token if has_forms else "")
            text = texts.get(key)
            if text is None:
                text = texts[key] = events_text(
                    ids, cursor, plan.ops_json, replay=False, csrf_token=key[1]
                )
            try:
                await follower.send(text_data=text)
            except Exception:  # a socket that went away must not stop the others' updates
                log.warning("live: could not send to %s", plan.page, exc_info=True)
