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

Fragments are rendered from the current database state with the page's own
partial templates and the viewer's permissions, so applying an old event again
shows the same thing as applying it once.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from apps.live.pages import NEW_PATCH_CATEGORIES, LivePage

_CSRF_SECRET = re.compile(r"^[a-zA-Z0-9]{32}$")


@dataclass(frozen=True)
class Viewer:
    """Who a page is rendered for: the session's user and what a request of theirs carries."""

    user: Any
    host: str = "localhost"
    csrf_secret: str = ""

    @property
    def key(self) -> tuple:
        """Viewers with the same key see byte-identical fragments."""
        if not getattr(self.user, "is_authenticated", False):
            return ("anonymous",)
        return ("user", self.user.pk, self.csrf_secret)


def viewer_from_scope(scope: dict) -> Viewer:
    from django.conf import settings

    headers = dict(scope.get("headers") or [])
    host = headers.get(b"host", b"localhost").decode("latin1")
    secret = (scope.get("cookies") or {}).get(settings.CSRF_COOKIE_NAME, "")
    return Viewer(
        user=scope.get("user") or AnonymousUser(),
        host=host,
        csrf_secret=secret if _CSRF_SECRET.match(secret) else "",
    )


def viewer_request(viewer: Viewer, path: str = "/") -> HttpRequest:
    """A GET request as the viewer's browser would make it, for rendering partials."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.META = {"HTTP_HOST": viewer.host, "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
    if viewer.csrf_secret:
        request.META["CSRF_COOKIE"] = viewer.csrf_secret
    request.user = viewer.user
    request.htmx = HtmxDetails(request)
    return request


# --- patch lists ----------------------------------------------------------------


def render_rows(
    request: HttpRequest, patch_ids: list[int], use_tags: bool, *, project_id: int | None = None
) -> dict[int, str]:
    """Each row's HTML, by patch id, with the list's own partial and row options."""
    from django.template.loader import render_to_string

    from apps.patches.models import Patch
    from apps.web.patches.rows import patch_rows_decorate, patch_rows_queryset, row_options

    qs = Patch.objects.filter(pk__in=patch_ids)
    if project_id is not None:
        qs = qs.filter(project_id=project_id)
    patches = list(patch_rows_queryset(qs))
    if not patches:
        return {}
    options = row_options(request, use_tags=use_tags)
    patch_rows_decorate(patches, options)
    return {
        patch.pk: render_to_string(
            "patches/_row.html",
            {"patch": patch, "opts": options, "selected": False, "oob": False, "changed": True},
            request=request,
        )
        for patch in patches
    }


def list_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_patches: list[int] | None = None
) -> list[dict]:
    """Rows to insert or swap on a patch list for these events (and rows to refresh)."""
    from apps.patches.models import Patch
    from apps.web.patches.filters import apply_filters

    # Per patch: "new" (a row to add), "late" (a row to add only where it cannot be
    # mistaken for news: see catchup.LATE_COMMIT_SECONDS), "" (a row to update).
    new: dict[int, str] = {}
    for ref in refs:
        if ref.get("patch_id"):
            pid = ref["patch_id"]
            if ref["category"] not in NEW_PATCH_CATEGORIES:
                new.setdefault(pid, "")
            elif new.get(pid) != "new":
                new[pid] = "late" if ref.get("late") else "new"
    for pid in refresh_patches or ():
        new.setdefault(pid, "")
    if not new:
        return []
    in_project = Patch.objects.filter(project_id=page.project_id, pk__in=list(new))
    matching = set(apply_filters(in_project, page.filters).order_by().values_list("pk", flat=True))
    request = viewer_request(viewer, f"/live/list/{page.project_id}/")
    html = render_rows(request, list(new), page.use_tags, project_id=page.project_id)
    in_view = page.filters.order == "-date" and page.query.get("page", "1") in ("", "1")
    ops = []
    for pid, is_new in new.items():
        if pid not in html:
            continue
        op = row_op(f"patch-row-{pid}", "patch-list-body", is_new, pid in matching, in_view)
        if op is not None:
            ops.append({**op, "html": html[pid]})
    return ops


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


# --- dispatch and caching --------------------------------------------------------


def page_ops(
    page: LivePage, viewer: Viewer, refs: list[dict], refresh_patches: list[int] | None = None
) -> list[dict]:
    """The operations that bring this viewer's page up to date with these events."""
    from apps.live.fragments import patch_page_ops, series_list_ops, series_page_ops

    if page.kind == "list":
        return list_ops(page, viewer, refs, refresh_patches)
    if page.kind == "patch":
        return patch_page_ops(page, viewer, refs, refresh=refresh_patches is not None)
    if page.kind == "series":
        return series_page_ops(page, viewer, refs, refresh_patches=refresh_patches)
    if page.kind == "serieslist":
        # A series list's rows are series: the ids a resuming page sends are theirs.
        return series_list_ops(page, viewer, refs, refresh_series=refresh_patches)
    return []


def ops_for_batch(
    page: LivePage, viewer: Viewer, refs: list[dict], *, refresh_patches: list[int] | None = None
) -> list[dict]:
    """Catch-up: every fragment the missed events touched, rendered once, inserts in order."""
    return page_ops(page, viewer, refs, refresh_patches)


# Renders shared by every connection in this process that shows the same page to
# an equivalent viewer: a broadcast to a hundred open lists renders once.
_SHARED: OrderedDict[tuple, asyncio.Future] = OrderedDict()
_SHARED_MAX = 2000


async def ops_for_event(page: LivePage, viewer: Viewer, message: dict) -> tuple[list[dict], str]:
    """A live broadcast's operations for this page and viewer, and their JSON encoding
    (rendered and encoded once per process)."""
    key = (message.get("nonce") or id(message), page.render_key, viewer.key)
    loop = asyncio.get_running_loop()
    future = _SHARED.get(key)
    if future is None or future.get_loop() is not loop:
        future = loop.create_future()
        _SHARED[key] = future
        while len(_SHARED) > _SHARED_MAX:
            _SHARED.popitem(last=False)
        try:
            ops = await database_sync_to_async(page_ops)(page, viewer, [message])
        except BaseException as exc:
            _SHARED.pop(key, None)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
            raise
        result = (ops, json.dumps(ops))
        future.set_result(result)
        return result
    return await asyncio.shield(future)
