"""The hub's coalescing: a group's next batch waits for its pages, and merges what came."""

from __future__ import annotations

import asyncio

import pytest

from apps.live.hub import Hub


class Page:
    """A page still catching up: the hub hands it batches through its inbox."""

    live = False

    def __init__(self):
        self.inbox: asyncio.Queue = asyncio.Queue()

    def batches(self) -> list[dict]:
        out = []
        while not self.inbox.empty():
            out.append(self.inbox.get_nowait())
        return out


def message(n: int, group: str = "project-1") -> dict:
    return {"type": "live.batch", "group": group, "refs": [{"event_id": n, "uid": str(n)}]}


@pytest.fixture
def hub(settings):
    settings.LIVE_COALESCE_SECONDS = 0  # only the pages' own pace holds batches back
    return Hub(layer=None)


async def test_changes_wait_while_the_pages_handle_a_batch_and_then_go_together(hub):
    pages = [Page(), Page()]
    hub.members["project-1"] = set(pages)
    hub.arrived(message(1))
    [first] = pages[0].batches()
    assert pages[1].batches() == [first]  # the same batch (one rendering) for both
    assert [r["event_id"] for r in first["refs"]] == [1]

    for n in (2, 3, 4):
        hub.arrived(message(n))
    assert all(page.inbox.empty() for page in pages)  # still busy with the first

    hub.done(first)
    assert all(page.inbox.empty() for page in pages)  # one page has not finished
    hub.done(first)
    [merged] = pages[0].batches()
    assert pages[1].batches() == [merged]
    assert [r["event_id"] for r in merged["refs"]] == [2, 3, 4]


async def test_a_page_that_never_finishes_holds_the_group_back_only_so_long(hub, settings):
    settings.LIVE_STUCK_SECONDS = 0.05
    page = Page()
    hub.members["project-1"] = {page}
    hub.arrived(message(1))
    assert len(page.batches()) == 1  # and never done
    hub.arrived(message(2))
    assert page.inbox.empty()
    late = await asyncio.wait_for(page.inbox.get(), timeout=5)
    assert [r["event_id"] for r in late["refs"]] == [2]


async def test_groups_do_not_wait_for_each_other(hub):
    lists, patch = Page(), Page()
    hub.members.update({"project-1": {lists}, "patch-7": {patch}})
    hub.arrived(message(1))
    hub.arrived(message(2, group="patch-7"))
    assert len(lists.batches()) == 1 and len(patch.batches()) == 1
