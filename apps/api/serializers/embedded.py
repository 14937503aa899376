"""The short form of a series that other representations embed (a patch shows its series).

Apart from series.py, which embeds patches: a patch's representation needs this
one, and series.py needs the patches', so neither module imports the other back.
"""

from __future__ import annotations

from typing import Any

from apps.api.support import ApiContext, format_datetime
from apps.api.versions import WEB_LINKS
from apps.patches import links
from apps.series.models import Series


def series_embedded(series: Series, ctx: ApiContext) -> dict[str, Any]:
    data: dict[str, Any] = {"id": series.id, "url": ctx.api_url("series", series.id)}
    if ctx.since(WEB_LINKS):
        data["web_url"] = ctx.site_url(links.series_path(series.id))
    data.update(
        {
            "name": series.name,
            "date": format_datetime(series.date),
            "version": series.version,
            "mbox": ctx.site_url(links.series_mbox_path(series.id)),
        }
    )
    return data
