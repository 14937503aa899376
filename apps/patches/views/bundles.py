"""Work in progress."""

from __future__ import annotations

from django.http import Http404


def _todo(request, **kwargs):
    raise Http404("not yet")


bundle_list = bundle_detail = _todo
