"""manage.py cron: run the periodic jobs once, synchronously, for instances without celery beat.

It lives in config/ (an installed app for this) because the jobs are scheduled here:
CELERY_BEAT_SCHEDULE in config/settings.py, beat in config/celery.py and
config/heartbeat.py. The schedule names tasks of every app, so no app below owns it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.celery import app


class Command(BaseCommand):
    help = (
        "Run periodic Patchwork functions once: send notifications, expire unused users and "
        "confirmations, and every other job of CELERY_BEAT_SCHEDULE. Run it from cron every "
        "NOTIFICATION_DELAY_MINUTES minutes when celery beat is not running."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "jobs", nargs="*", metavar="JOB", help="only these jobs (default: all of them)"
        )
        parser.add_argument(
            "--list", action="store_true", dest="list_jobs", help="list the jobs and exit"
        )

    def handle(self, *args, jobs: list[str], list_jobs: bool, **options):
        schedule = settings.CELERY_BEAT_SCHEDULE
        if list_jobs:
            for name, entry in schedule.items():
                self.stdout.write(f"{name}: {entry['task']} every {entry['schedule']}s")
            return
        unknown = sorted(set(jobs) - set(schedule))
        if unknown:
            raise CommandError(
                f"unknown job(s): {', '.join(unknown)}; known: {', '.join(sorted(schedule))}"
            )
        app.loader.import_default_modules()  # registers every app's tasks
        failed = []
        for name, entry in schedule.items():
            if jobs and name not in jobs:
                continue
            task = app.tasks[entry["task"]]
            # apply() runs the task here and now, whatever the eager setting says.
            result = task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
            if result.failed():
                failed.append(name)
                self.stderr.write(f"{name}: failed\n{result.traceback}")
            else:
                self.stdout.write(f"{name}: ok ({result.result})")
        if failed:
            raise CommandError(f"{len(failed)} job(s) failed: {', '.join(failed)}")
