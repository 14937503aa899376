"""The patch list's rows built in Python (apps/web/patches/fast_rows.py) against the plain
path (the partial patches/_row.html included once a row), on the same page.

The page is rendered in-process, alternately both ways; the figure is the process CPU
time per request (median), which a loaded machine disturbs far less than wall time.
The page's bytes must be the same both ways.

    ./dev bench --only rows
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import time

from bench import dataset
from bench.common import DB_PREFIX, PYTHON, ROOT, Figure, bench_env, create_database

DATABASE = f"{DB_PREFIX}_rows"
PATCHES = 5000
ROUNDS = 4
REQUESTS = 40
# A fast path is kept only if it saves more than this share of the page's time (issue 20).
WORTH = 0.10
CSRF_TOKEN = re.compile(rb"[a-zA-Z0-9]{64}")


def bench_list_rows(template: str) -> tuple[list[Figure], dict]:
    create_database(DATABASE, template)
    dataset.build(DATABASE, PATCHES)
    out = subprocess.run(
        [PYTHON, "-m", "bench.list_rows"],
        cwd=ROOT,
        env=bench_env(DATABASE, redis_db=None),
        check=True,
        capture_output=True,
        text=True,
    )
    raw = json.loads(out.stdout.strip().splitlines()[-1])
    fast, plain = raw["fast_ms"], raw["plain_ms"]
    saved = 1 - fast / plain
    return [
        Figure("rows", "list page CPU, rows built in Python", round(fast, 1), "ms"),
        Figure("rows", "list page CPU, rows through the partial", round(plain, 1), "ms"),
        Figure(
            "rows",
            "share of the page the Python rows save",
            round(100 * saved, 1),
            "%",
            f"> {100 * WORTH:.0f}",
            saved > WORTH,
        ),
        Figure("rows", "same bytes both ways", float(raw["same"]), "", "1", raw["same"]),
    ], raw


def _measure() -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import get_template
    from django.test import RequestFactory
    from django_htmx.middleware import HtmxDetails

    from apps.projects.models import Project
    from apps.web.patches import list as page

    project = Project.objects.get(linkname=dataset.BIG)
    partial = get_template("patches/_row.html")
    fast_row = page.row_html

    def plain_row(patch, options, **kw):
        context = {"patch": patch, "opts": options, "selected": False, "oob": False}
        return partial.render({**context, "changed": False})

    def once() -> tuple[float, bytes]:
        request = RequestFactory().get(f"/project/{project.linkname}/list/")
        request.user = AnonymousUser()
        request.htmx = HtmxDetails(request)
        started = time.process_time()
        body = page.patch_list(request, project.linkname).content
        seconds = time.process_time() - started
        return seconds, CSRF_TOKEN.sub(b"csrf", body)  # masked anew for every response

    times: dict[str, list[float]] = {"fast": [], "plain": []}
    bodies: dict[str, bytes] = {}
    for _ in range(ROUNDS):
        for name, row in (("fast", fast_row), ("plain", plain_row)):
            page.row_html = row
            once()  # warm
            for _ in range(REQUESTS):
                seconds, bodies[name] = once()
                times[name].append(seconds)
    page.row_html = fast_row
    return {
        "fast_ms": 1000 * statistics.median(times["fast"]),
        "plain_ms": 1000 * statistics.median(times["plain"]),
        "same": bodies["fast"] == bodies["plain"],
        "rows": PATCHES,
    }


if __name__ == "__main__":
    print(json.dumps(_measure()))
    sys.exit(0)
