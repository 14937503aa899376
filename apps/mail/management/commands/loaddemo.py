"""manage.py loaddemo: load the demo archive through the normal ingestion path."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand

from apps.mail.archive import archive_ingest
from apps.mail.demo.triage import demo_triage
from apps.mail.management.commands.parsearchive import summary_line
from apps.projects.models import Project

DEMO = Path(__file__).resolve().parents[2] / "demo" / "demo.mbox"
LIST_ID = "patchwork.lists.example.org"


class Command(BaseCommand):
    help = (
        "Load a small demo archive (series, v2, reviews, a pull request) into the "
        f"project whose list is {LIST_ID}, creating that project if needed, then the "
        "demo's triage (states, checks, a bundle). Re-running skips what is already stored."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database has any project (./dev serve runs this "
            "on every start; the exit status says whether it worked).",
        )

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and Project.objects.exists():
            return
        project = Project.objects.filter(listid=LIST_ID).first()
        if project is None:
            taken = Project.objects.filter(linkname="patchwork").exists()
            project = Project.objects.create(
                linkname="patchwork-demo" if taken else "patchwork",
                name="Patchwork demo" if taken else "Patchwork",
                listid=LIST_ID,
                listemail="patchwork@lists.example.org",
            )
            self.stdout.write(f"created project {project.linkname}")
        started = time.monotonic()
        summary = archive_ingest(DEMO)
        self.stdout.write(
            f"{project.linkname}: {summary_line(summary, time.monotonic() - started)}"
        )
        if demo_triage(project):
            self.stdout.write(
                f"{project.linkname}: triage by 'dave', checks by 'ci-bot', bundle 'for-1.0'"
            )
