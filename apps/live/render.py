"""Rendering what an event changes on a page, for one viewer, as swap operations.

Operations (applied by static/js/live.js, each one idempotent):
  {"op": "replace", "id": dom id, "html": …, "nomatch": bool?, "keep_while_editing": bool?}
      swap the element if the page has it (nomatch: the row no longer fits the
      page's filters; it is marked and leaves on the next refresh;
      keep_while_editing: not while the viewer's focus is in it)
  {"op": "upsert", "id": dom id, "into": container id, "at": "top"|"bottom"|"pending"|"sorted",
   "key": sort key?, "html": …}
      swap the element if present, else insert it ("pending": behind the
      "N new" bar, for lists where it cannot be placed in view)

Fragments are rendered by the page's own module (registered with
pages.live_page_kind_register), from the current database state with the page's own
context code, partial templates and the viewer's permissions, so applying an old event again
shows the same thing as applying it once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django_htmx.middleware import HtmxDetails

from apps.live.pages import LivePage, live_page_kind

_CSRF_SECRET = re.compile(r"^[a-zA-Z0-9]{32}$")
T = TypeVar("T")


@dataclass(frozen=True)
class Viewer:
    """Who a page is rendered for: the session's user and what a request of theirs carries."""

    user: Any
    host: str = "localhost"
    csrf_secret: str = ""


# Fragments are shared by every viewer of a kind, so they carry this in place of a CSRF
# token; each socket puts its own viewer's token in (viewer_csrf_token) as it sends them.
CSRF_PLACEHOLDER = "LIVE0CSRF0PLACEHOLDER0" + "0" * 42


def csrf_context() -> dict:
    """Context for live fragments whose templates have forms: {% csrf_token %} renders the
    placeholder, not a token of whichever viewer's request rendered the fragment."""
    return {"csrf_token": CSRF_PLACEHOLDER}


def viewer_csrf_token(viewer: Viewer) -> str:
    """A CSRF token valid for this viewer's cookie (fragments sent to it carry it)."""
    if not viewer.csrf_secret:
        return ""
    return get_token(viewer_request(viewer))


def viewer_from_scope(scope: dict) -> Viewer:
    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"localhost").decode("latin1")
    secret = (scope.get("cookies") or {}).get(settings.CSRF_COOKIE_NAME, "")
    return Viewer(
        user=scope.get("user") or AnonymousUser(),
        host=host,
        csrf_secret=secret if _CSRF_SECRET.match(secret) else "",
    )


class HtmxHttpRequest(HttpRequest):
    """A request with what django-htmx's middleware sets (the pages' views read it)."""

    htmx: HtmxDetails


def viewer_request(viewer: Viewer, path: str = "/") -> HtmxHttpRequest:
    """A GET request as the viewer's browser would make it, for rendering partials."""
    request = HtmxHttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.META = {"HTTP_HOST": viewer.host, "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    if viewer.csrf_secret:
        request.META["CSRF_COOKIE"] = viewer.csrf_secret
    request.user = viewer.user
    request.htmx = HtmxDetails(request)
    return request


# --- lists ---------------------------------------------------------------------


def row_op(row_id: str, body_id: str, is_new: str, matches: bool, in_view: bool) -> dict | None:
    """How a list places a row an event touched (without its html), or None to leave it.

    is_new: "new" (a row to add), "late" (added only where it cannot pass for news),
    "" (a row to update); matches: the row fits the page's filters; in_view: the page
    is the first one in newest-first order, where new rows go on top.
    """
    if matches and (is_new == "new" or (is_new == "late" and in_view)):
        return {
            "op": "upsert",
            "id": row_id,
            "into": body_id,
            "at": "top" if in_view else "pending",
        }
    if is_new == "new":
        return None  # a new row this list does not show: nothing to update
    return {"op": "replace", "id": row_id, "nomatch": not matches}


# --- dispatch ---------------------------------------------------------------------


def page_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_patches: list[int] | None = None
) -> list[dict]:
    """The operations that bring this viewer's page up to date with these events
    (rendered by the page's own module: see pages.PageKind.ops)."""
    kind = live_page_kind(page.kind)
    if kind is None:
        return []
    return kind.ops(page, viewer, refs, refresh_patches)


def ops_for_batch(
    page: LivePage, viewer: Viewer, refs: list[dict], *, refresh_patches: list[int] | None = None
) -> list[dict]:
    """Catch-up: every fragment the missed events touched, rendered once, inserts in order."""
    return page_ops(page, viewer, refs, refresh_patches)


# --- reads shared by one batch's renderings -------------------------------------------

_batch = threading.local()


@contextmanager
def reads_shared() -> Iterator[None]:
    """Renderings inside share what page modules read through shared_read: a batch
    rendered for several kinds of viewer reads its rows once (fanout.plans_render)."""
    _batch.reads = {}
    try:
        yield
    finally:
        _batch.reads = None


def shared_read(key: Hashable, read: Callable[[], T]) -> T:
    """read(), or what it returned for the same key in this reads_shared block (outside
    one: read() every time). The key must say everything the result depends on; the
    result must not depend on the viewer, nor be changed by its user."""
    reads = getattr(_batch, "reads", None)
    if reads is None:
        return read()
    if key not in reads:
        reads[key] = read()
    return reads[key]
