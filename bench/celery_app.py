"""The production Celery app, plus what the benchmark reads from each worker process.

`celery -A bench.celery_app worker` runs exactly the tasks of `-A config`; each
worker process also counts its SQL statements and writes them, its task count,
its CPU time (user + system, this process only) and its peak memory to
var/bench/celery-<pid>.json after every task.
"""

from __future__ import annotations

import json
import os
import resource

from celery.signals import task_postrun, worker_process_init, worker_ready

from bench import querycount
from bench.common import WORK, peak_rss_mb
from config.celery import app

__all__ = ["app"]
TASKS = {"count": 0}


# BENCH_PROFILE=1: each worker process profiles itself (cProfile) into celery-<pid>.prof.
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
PROFILER: dict = {}


@worker_process_init.connect
def _count_queries(**kwargs) -> None:
    querycount.install()
    if PROFILE:
        import cProfile

        PROFILER["p"] = cProfile.Profile()
        PROFILER["p"].enable()


@worker_ready.connect
def _ready(**kwargs) -> None:
    (WORK / "celery-ready").write_text(str(os.getpid()))


@task_postrun.connect
def _dump(**kwargs) -> None:
    TASKS["count"] += 1
    data = {
        "tasks": TASKS["count"],
        "statements": querycount.statements(),
        "cpu_seconds": _cpu_seconds(),
        "peak_rss_mb": peak_rss_mb(),
    }
    (WORK / f"celery-{os.getpid()}.json").write_text(json.dumps(data))
    if PROFILE and TASKS["count"] % 50 == 0:
        PROFILER["p"].dump_stats(WORK / f"celery-{os.getpid()}.prof")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
