"""Downloads: patch/cover mbox, raw diffs, series and bundle mboxes, legacy redirects.

File names come unquoted in ``Content-Disposition`` (``filename=<slug>.patch``)
because git-pw and pwclient read them that way. Series and bundle mboxes
stream; under ASGI they stream through an async iterator, so a big bundle is
never held in memory whole. Private bundles download for their owner, who may
authenticate with a session, an API token or HTTP Basic (as git-pw does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect

from apps.api.auth import api_authenticate
from apps.api.support import ApiError
from apps.patches import links
from apps.patches.mbox import (
    SeriesMismatch,
    bundle_filename,
    bundle_mbox_chunks,
    cover_filename,
    cover_to_mbox,
    patch_diff_chunks,
    patch_filename,
    patch_for_download,
    patch_mbox_chunks,
)
from apps.patches.models import Bundle, Cover, Patch
from apps.patches.services import bundle_check_can_view
from apps.series.mbox import series_filename, series_mbox_chunks
from apps.series.models import Series

_Response = TypeVar("_Response", HttpResponse, StreamingHttpResponse)

MBOX_TYPE = "text/plain; charset=utf-8"


def _attachment(response: _Response, filename: str) -> _Response:
    response["Content-Disposition"] = f"attachment; filename={filename}"
    return response


async def _async_chunks(chunks: Iterable[str]) -> AsyncIterator[bytes]:
    iterator = iter(chunks)
    next_chunk = sync_to_async(lambda: next(iterator, None), thread_sensitive=True)
    while (chunk := await next_chunk()) is not None:
        yield chunk.encode()


def _sync_chunks(chunks: Iterable[str]):
    for chunk in chunks:
        yield chunk.encode()


def _stream(request: HttpRequest, chunks: Iterable[str], filename: str) -> StreamingHttpResponse:
    body = _async_chunks(chunks) if isinstance(request, ASGIRequest) else _sync_chunks(chunks)
    return _attachment(StreamingHttpResponse(body, content_type=MBOX_TYPE), filename)


def _patch(linkname: str, msgid: str) -> Patch:
    # Without its diff: downloads stream it from the database in slices.
    patch = patch_for_download(project__linkname=linkname, msgid=f"<{links.url_msgid(msgid)}>")
    if patch is None:
        raise Http404("No such patch.")
    return patch


def patch_mbox(request: HttpRequest, linkname: str, msgid: str) -> StreamingHttpResponse:
    patch = _patch(linkname, msgid)
    try:
        chunks = patch_mbox_chunks(patch, series_deps=request.GET.get("series"))
    except SeriesMismatch as exc:
        raise Http404(str(exc)) from exc
    return _stream(request, chunks, patch_filename(patch))


def patch_raw(request: HttpRequest, linkname: str, msgid: str) -> StreamingHttpResponse:
    patch = _patch(linkname, msgid)
    response = _stream(request, patch_diff_chunks(patch), patch_filename(patch, raw=True))
    response["Content-Type"] = "text/x-patch; charset=utf-8"
    return response


def cover_mbox(request: HttpRequest, linkname: str, msgid: str) -> HttpResponse:
    cover = get_object_or_404(
        Cover.objects.select_related("project", "submitter"),
        project__linkname=linkname,
        msgid=f"<{links.url_msgid(msgid)}>",
    )
    return _attachment(
        HttpResponse(cover_to_mbox(cover), content_type=MBOX_TYPE), cover_filename(cover)
    )


def series_mbox(request: HttpRequest, series_id: int) -> StreamingHttpResponse:
    series = get_object_or_404(Series, pk=series_id)
    return _stream(request, series_mbox_chunks(series), series_filename(series))


def bundle_mbox(request: HttpRequest, username: str, name: str) -> StreamingHttpResponse:
    bundle = get_object_or_404(
        Bundle.objects.select_related("owner"), owner__username=username, name=name
    )
    try:
        user = api_authenticate(request)
    except ApiError:
        # Refused credentials see what anyone sees: a 403 here would tell a private
        # bundle (it exists) from a missing one.
        user = AnonymousUser()
    if not bundle_check_can_view(user, bundle):
        raise Http404("No such bundle.")
    return _stream(request, bundle_mbox_chunks(bundle), bundle_filename(bundle))


# --- URLs of older Patchwork versions ------------------------------------------------------------


def _legacy(request: HttpRequest, path: str) -> HttpResponse:
    if not settings.COMPAT_REDIR:
        raise Http404("Not found.")
    query = request.META.get("QUERY_STRING", "")
    return redirect(path + (f"?{query}" if query else ""), permanent=True)


def legacy_patch_mbox(request: HttpRequest, patch_id: int) -> HttpResponse:
    patch = get_object_or_404(Patch.objects.select_related("project"), pk=patch_id)
    return _legacy(request, links.patch_mbox_path(patch.project.linkname, patch.msgid))


def legacy_patch_raw(request: HttpRequest, patch_id: int) -> HttpResponse:
    patch = get_object_or_404(Patch.objects.select_related("project"), pk=patch_id)
    return _legacy(request, links.patch_raw_path(patch.project.linkname, patch.msgid))


def legacy_cover_mbox(request: HttpRequest, cover_id: int) -> HttpResponse:
    cover = get_object_or_404(Cover.objects.select_related("project"), pk=cover_id)
    return _legacy(request, links.cover_mbox_path(cover.project.linkname, cover.msgid))
