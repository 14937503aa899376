"""Series pages."""

from __future__ import annotations

from django.http import Http404


def series_detail(request, series_id: int):
    raise Http404("not yet")
