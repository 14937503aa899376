"""The webhooks worker with timestamps: `celery -A bench.webhooks_trace worker ...`.

Runs exactly the tasks of `-A config`; each worker process also notes, per delivery,
when its task started, when the POST began and when the attempt was logged
(time.perf_counter: CLOCK_MONOTONIC, comparable across the machine's processes),
and writes them to $WEBHOOK_TRACE_DIR/trace-<pid>.json at exit and every second.
bench/webhooks_fanout.py --trace reads them to split commit → received by step.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
import time
from pathlib import Path

from celery.signals import task_postrun, task_prerun, worker_init

from config.celery import app

__all__ = ["app"]
_marks: list[tuple[str, int | str, float]] = []
_lock = threading.Lock()
DIR = Path(os.environ.get("WEBHOOK_TRACE_DIR", "/tmp"))


def mark(step: str, key: int | str) -> None:
    """Note when a delivery (by id, or by webhook-id for the POST) reached a step."""
    with _lock:
        _marks.append((step, key, time.perf_counter()))


def _dump() -> None:
    with _lock:
        data = list(_marks)
    tmp = DIR / f".trace-{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    tmp.replace(DIR / f"trace-{os.getpid()}.json")  # never read half-written


@task_prerun.connect
def _started(task=None, args=None, **kwargs) -> None:
    if task is not None and task.name.startswith("webhooks.deliver") and args:
        first = args[0]
        for pk in first if isinstance(first, list) else [first]:
            mark("task", int(pk))


@task_postrun.connect
def _ended(task=None, args=None, **kwargs) -> None:
    if task is not None and task.name.startswith("webhooks.deliver") and args:
        first = args[0]
        for pk in first if isinstance(first, list) else [first]:
            mark("done", int(pk))


def _install() -> None:
    from apps.webhooks import delivery, outbound

    post = outbound.post

    def traced_post(url, *, body, headers, **kw):
        mark("post", headers.get("webhook-id", ""))
        return post(url, body=body, headers=headers, **kw)

    outbound.post = traced_post
    delivery.outbound = outbound

    def flush() -> None:
        while True:
            time.sleep(1)
            _dump()

    threading.Thread(target=flush, daemon=True).start()
    atexit.register(_dump)


@worker_init.connect
def _init(**kwargs) -> None:
    _install()
