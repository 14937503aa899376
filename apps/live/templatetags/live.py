"""{% live_socket kind object_id %}: the element that keeps a page live (and shows if it is)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.template.loader import render_to_string

from apps.events.selectors import event_latest_id
from apps.live.pages import live_page_kind

register = template.Library()


def live_cursor() -> int:
    """The newest event id: a page rendered now shows every event up to it."""
    return event_latest_id()


@register.simple_tag(takes_context=True)
def live_socket(context, kind: str, object_id: int) -> str:
    page_kind = live_page_kind(kind)
    if page_kind is None:
        raise template.TemplateSyntaxError(f"live_socket: unknown page kind {kind!r}")
    url = f"/ws/{kind}/{int(object_id)}/"
    request = context.get("request")
    if page_kind.params and request is not None:
        params = [(k, v) for k in page_kind.params for v in request.GET.getlist(k)]
        if params:
            url += "?" + urlencode(params)
    # A page may read the cursor with its own data (one query less): "live_cursor".
    cursor = context.get("live_cursor")
    return render_to_string(
        "live/_live_socket.html",
        {
            "url": url,
            "cursor": live_cursor() if cursor is None else cursor,
            "region": page_kind.region,
            "kind": kind,
        },
    )
