"""manage.py rehash: recompute the hash of existing patches."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from apps.mail.parse.hashing import hash_diff
from apps.patches.models import Patch

BATCH = 500


class Command(BaseCommand):
    help = "Update the hashes on existing patches (all of them, or the ids given)."

    def add_arguments(self, parser):
        parser.add_argument("patch_ids", nargs="*", type=int, help="patch ids; all when absent")

    def handle(self, *args, patch_ids, **options):
        patches = Patch.objects.order_by("pk").only("pk", "diff", "hash")
        if patch_ids:
            patches = patches.filter(pk__in=patch_ids)
        changed, seen, batch = 0, 0, []
        for patch in patches.iterator(chunk_size=BATCH):
            seen += 1
            new = hash_diff(patch.diff) if patch.diff else None
            if new != patch.hash:
                patch.hash = new
                batch.append(patch)
            if len(batch) >= BATCH:
                Patch.objects.bulk_update(batch, ["hash"])
                changed += len(batch)
                batch = []
        if batch:
            Patch.objects.bulk_update(batch, ["hash"])
            changed += len(batch)
        self.stdout.write(f"{seen} patches, {changed} hashes changed")
