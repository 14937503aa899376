"""Creating checks (CI results) on patches."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.checks.models import Check
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import Patch
from apps.projects.selectors import user_is_maintainer

CHECK_STATES = [value for value, _ in Check.STATES]


def check_check_can_create(user, patch: Patch) -> bool:
    """Maintainers of the patch's project may report checks on it."""
    return user_is_maintainer(user, patch.project)


@transaction.atomic
def check_create(
    *,
    patch: Patch,
    user,
    state: str,
    context: str = "default",
    target_url: str | None = None,
    description: str | None = None,
) -> Check:
    """Record a check on a patch (the caller is its user) and its check-created event."""
    check = Check(
        patch=patch,
        user=user,
        state=state,
        context=context or "default",
        target_url=target_url or None,
        description=description,
    )
    try:
        check.full_clean(exclude=["patch", "user"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from exc
    check.save()
    event_record(
        category=Event.CHECK_CREATED,
        project=patch.project,
        actor=user,
        patch=patch,
        created_check=check,
    )
    return check
