"""REST representations of checks."""

from __future__ import annotations

from typing import Any

from apps.api.serializers.projects import user_embedded
from apps.api.support import ApiContext, format_datetime
from apps.checks.models import Check


def check_embedded(check: Check, ctx: ApiContext) -> dict[str, Any]:
    return {
        "id": check.id,
        "url": ctx.api_url("patches", check.patch_id, "checks", check.id),
        "date": format_datetime(check.date),
        "state": check.state,
        "target_url": check.target_url,
        "context": check.context,
    }


def check_to_dict(check: Check, ctx: ApiContext) -> dict[str, Any]:
    """A check; its user should be loaded with it."""
    return {
        "id": check.id,
        "url": ctx.api_url("patches", check.patch_id, "checks", check.id),
        "user": user_embedded(check.user, ctx),
        "date": format_datetime(check.date),
        "state": check.state,
        "target_url": check.target_url,
        "context": check.context,
        "description": check.description,
    }
