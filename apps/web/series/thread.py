"""Threads and messages where b4 looks for them (see apps/series/thread.py)."""

from __future__ import annotations

import gzip

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse

from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Project
from apps.series.thread import message_find, message_mbox, thread_mbox


def _msgid(msgid: str) -> str:
    return "<" + msgid.strip("<>") + ">"


def thread_mbox_gz(request: HttpRequest, linkname: str, msgid: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    text = thread_mbox(project, _msgid(msgid))
    if text is None:
        raise Http404("No such message in this project.")
    response = HttpResponse(gzip.compress(text.encode()), content_type="application/gzip")
    response["Content-Disposition"] = 'attachment; filename="t.mbox.gz"'
    return response


def message_raw(request: HttpRequest, linkname: str, msgid: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    text = message_mbox(project, _msgid(msgid))
    if text is None:
        raise Http404("No such message in this project.")
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


def message_page(request: HttpRequest, linkname: str, msgid: str) -> HttpResponse:
    """The page of whichever patch, cover letter or comment has this Message-ID (b4's
    linkmask: the Link: trailers it adds point here)."""
    project = get_object_or_404(Project, linkname=linkname)
    found = message_find(project, _msgid(msgid))
    if isinstance(found, Patch):
        return redirect("patch-detail", linkname, found.url_msgid)
    if isinstance(found, Cover):
        return redirect("cover-detail", linkname, found.url_msgid)
    if isinstance(found, PatchComment):
        return redirect(reverse("comment-redirect", args=[found.pk]))
    if isinstance(found, CoverComment):
        return redirect(reverse("cover-comment-redirect", args=[found.pk]))
    raise Http404("No such message in this project.")
