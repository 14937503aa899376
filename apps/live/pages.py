"""Which live page a websocket serves: who may open it, its groups, the events it shows.

The kinds of live page are registered by the pages themselves (apps.web): live only
asks this registry.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.http import QueryDict

from apps.events.models import Event

# Rows a page may ask to have refreshed on resume (a page shows at most this many).
MAX_REFRESH_ROWS = 1000

# Events that change what a patch-list row shows (or add a row).
ROW_CATEGORIES = frozenset(
    {
        Event.PATCH_CREATED,
        Event.PATCH_COMPLETED,
        Event.PATCH_STATE_CHANGED,
        Event.PATCH_DELEGATED,
        Event.CHECK_CREATED,
        Event.PATCH_COMMENT_CREATED,  # tag counts (Acked-by: …) come with comments
    }
)
NEW_PATCH_CATEGORIES = frozenset({Event.PATCH_CREATED, Event.PATCH_COMPLETED})
# Events that change what a series-list row shows (or add a row): progress, cover
# (the series' name), states, delegates, checks and tags of its patches.
SERIES_ROW_CATEGORIES = ROW_CATEGORIES | {
    Event.SERIES_CREATED,
    Event.SERIES_COMPLETED,
    Event.COVER_CREATED,
    Event.COVER_COMMENT_CREATED,  # tags given on the cover count for the series
}
NEW_SERIES_CATEGORIES = frozenset({Event.SERIES_CREATED})
# Events that change a series' progress (the series page and the patch page's series box).
PROGRESS_CATEGORIES = NEW_PATCH_CATEGORIES | {
    Event.SERIES_CREATED,
    Event.SERIES_COMPLETED,
    Event.COVER_CREATED,
}


@dataclass
class LivePage:
    """One kind of page, opened by one viewer, with what it needs to decide about events."""

    kind: str
    project_id: int
    object_id: int
    groups: list[str]
    # DOM ids of the regions to fetch again when too many events were missed.
    regions: list[str]
    query: QueryDict = field(default_factory=QueryDict)
    series_id: int | None = None
    relation_id: int | None = None
    # Lists: the filters read from the page's URL and the project's tag columns setting,
    # resolved once per connection (the series list: its search as a Q, None if it
    # is not understood and the page shows no series).
    filters: Any = None
    use_tags: bool = True

    @property
    def render_key(self) -> tuple:
        """Pages with the same key get the same fragments for the same viewer."""
        params = tuple(sorted((key, tuple(values)) for key, values in self.query.lists()))
        return (self.kind, self.object_id, params)

    def event_filter(self) -> Q:
        """The events of the durable log this page shows (for catch-up)."""
        return _KINDS[self.kind].events(self)

    def wants(self, message: dict) -> bool:
        """Whether a broadcast (already routed to one of our groups) concerns this page."""
        return _KINDS[self.kind].wants(self, message)


def _every_broadcast(page: LivePage, message: dict) -> bool:
    return True


def viewer_kind_per_user(page: LivePage, user) -> Hashable:
    """The safe default: every signed-in user sees their own fragments, anonymous ones
    all the same."""
    if not getattr(user, "is_authenticated", False):
        return ("anonymous",)
    return ("user", user.pk)


@dataclass(frozen=True)
class PageKind:
    """What live needs of one kind of page: its page module in apps.web provides it
    (registered in WebConfig.ready with live_page_kind_register)."""

    name: str
    # The DOM id the page fetches again when it missed too much to replay.
    region: str
    # (object_id, query, user) -> the page, or None if it does not exist or is not the
    # user's to see.
    open: Callable[[int, QueryDict, Any], LivePage | None]
    # (page, viewer, event refs, ids of rows to refresh or None) -> swap operations
    # (see render.py), rendered for the viewer from the page's own context code.
    ops: Callable[[LivePage, Any, list[dict], list[int] | None], list[dict]]
    # The events of the durable log the page shows (for catch-up).
    events: Callable[[LivePage], Q]
    # Whether a broadcast routed to one of the page's groups concerns it.
    wants: Callable[[LivePage, dict], bool] = _every_broadcast
    # What the websocket's URL keeps of the page's URL (a list's filters, sort and page).
    params: tuple[str, ...] = ()
    # (page, user) -> the viewer's kind: users of one kind get byte-identical fragments
    # (CSRF tokens apart: render.CSRF_PLACEHOLDER), so a broadcast renders once per kind
    # in each process and the same bytes go to all its sockets. Read once per connection.
    viewer_kind: Callable[[LivePage, Any], Hashable] = viewer_kind_per_user


_KINDS: dict[str, PageKind] = {}


def live_page_kind_register(kind: PageKind) -> None:
    """Make a kind of page live (its name is the websocket URL's kind)."""
    _KINDS[kind.name] = kind


def live_page_kind(name: str) -> PageKind | None:
    return _KINDS.get(name)


def live_page_viewer_kind(page: LivePage, user) -> Hashable:
    """Which of the page's kinds of viewer this user is (see PageKind.viewer_kind)."""
    return _KINDS[page.kind].viewer_kind(page, user)


def live_page_open(*, kind: str, object_id: int, query_string: str, user) -> LivePage | None:
    """The page a viewer asks to follow, or None if it does not exist or is not theirs to see."""
    page_kind = _KINDS.get(kind)
    if page_kind is None:
        return None
    return page_kind.open(object_id, QueryDict(query_string or ""), user)
