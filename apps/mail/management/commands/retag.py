"""manage.py retag: recount the tags (Acked-by, ...) of existing patches."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from apps.mail.tagging import patch_tags_refresh, tag_patterns
from apps.patches.models import Patch


class Command(BaseCommand):
    help = "Update the tag counts on existing patches (all of them, or the ids given)."

    def add_arguments(self, parser):
        parser.add_argument("patch_ids", nargs="*", type=int, help="patch ids; all when absent")

    def handle(self, *args, patch_ids, **options):
        patterns = tag_patterns()
        patches = (
            Patch.objects.select_related("project")
            .order_by("pk")
            .only("pk", "content", "project__use_tags")
        )
        if patch_ids:
            patches = patches.filter(pk__in=patch_ids)
        count = 0
        for patch in patches.iterator(chunk_size=500):
            with transaction.atomic():
                patch_tags_refresh(patch=patch, patterns=patterns)
            count += 1
        self.stdout.write(f"{count} patches retagged")
