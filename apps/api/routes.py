"""The routers each REST API version mounts, and where: the endpoints of every version.

The order is the order of the OpenAPI schema's paths (and of URL matching).
"""

from __future__ import annotations

from ninja import Router

from apps.api import bundles, checks, comments, covers, events, index, patches, projects, series
from apps.api.support import version_since
from apps.api.versions import BUNDLE_WRITES, COMMENT_DETAIL, EVENTS_AFTER


def routers(version: str) -> list[tuple[str, Router]]:
    """(prefix, router) for every router of this version's API, in order."""

    def since(introduced: str) -> bool:
        return version_since(version, introduced)

    mounts: list[tuple[str, Router | None]] = [
        ("", index.router),
        ("/projects", projects.projects),
        ("/people", projects.people),
        ("/users", projects.users),
        ("/patches", patches.router),
        ("/patches", comments.patches),
        ("/patches", comments.patches_detail if since(COMMENT_DETAIL) else None),
        ("/covers", comments.covers),
        ("/covers", comments.covers_detail if since(COMMENT_DETAIL) else None),
        ("/covers", covers.router),
        ("/bundles", bundles.router if since(BUNDLE_WRITES) else bundles.read_router),
        ("/patches", checks.router),
        ("/series", series.router),
        ("/events", events.router if since(EVENTS_AFTER) else events.router_before_cursor),
    ]
    return [(prefix, router) for prefix, router in mounts if router is not None]
