"""Work in progress."""

from __future__ import annotations

from django.http import Http404


def _todo(request, **kwargs):
    raise Http404("not yet")


todo_lists = todo_list = todo_bulk = _todo
