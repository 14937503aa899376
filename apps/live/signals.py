"""Live refreshes for patch changes that the Event log does not record.

Patchwork records no event when a patch is archived or its commit ref or pull
URL changes, yet open pages show those fields: a saved patch with any of them
in `update_fields` (as patch_update saves it) is broadcast after commit.
"""

from __future__ import annotations

from django.db.models.signals import post_save

from apps.live.publish import patch_updated_publish_on_commit
from apps.patches.models import Patch

LIVE_FIELDS = frozenset({"archived", "commit_ref", "pull_url"})


def patch_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    if created or not update_fields or not (LIVE_FIELDS & set(update_fields)):
        return
    patch_updated_publish_on_commit(
        patch_id=instance.pk, project_id=instance.project_id, series_id=instance.series_id
    )


def connect() -> None:
    post_save.connect(patch_saved, sender=Patch, dispatch_uid="live-patch-saved")
