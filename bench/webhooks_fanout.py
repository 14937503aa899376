"""Webhook fan-out benchmark: commit → receiver latency and throughput on loopback.

    .venv/bin/python bench/webhooks_fanout.py                 # SQLite, worker processes, no broker
    .venv/bin/python bench/webhooks_fanout.py --postgres      # PostgreSQL, worker processes, no broker
    .venv/bin/python bench/webhooks_fanout.py --celery        # PostgreSQL + Redis + celery workers

Scenarios: one event to 100 subscribers (repeated), and a burst of 1,000 events
to 10 subscribers (plus the same burst with no subscriber, the baseline cost of
recording events). Each event is recorded in its own transaction through
event_record (the outbox rows included); delivery tasks run on a pool of
processes calling the same function the celery task calls, or, with --celery, on
real celery worker processes fed through Redis. A receiver on 127.0.0.1 notes
when each webhook-id arrives; latency is from the event's commit to that
arrival. The database is a throwaway one (pw_webhooks_bench on PostgreSQL, a
temporary file for SQLite); Redis db 6 is used with --celery.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("WEBHOOK_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DATABASE = "pw_webhooks_bench"
REDIS = os.environ.get("WEBHOOK_BENCH_REDIS", "redis://127.0.0.1:6379/6")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL, not SQLite")
    parser.add_argument("--celery", action="store_true", help="deliver with celery workers")
    parser.add_argument("--workers", type=int, default=4, help="delivery processes")
    parser.add_argument("--fanout", type=int, default=100, help="subscribers, fan-out case")
    parser.add_argument("--fanout-events", type=int, default=5, help="events, fan-out case")
    parser.add_argument("--burst", type=int, default=1000, help="events, burst case")
    parser.add_argument("--burst-subscribers", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--json", action="store_true", help="also print the rows as one JSON line (bench/push.py)"
    )
    args = parser.parse_args()
    if args.quick:
        args.fanout, args.fanout_events, args.burst = 20, 3, 100
    if args.celery:
        args.postgres = True
    return args


def configure(args: argparse.Namespace) -> None:
    """Environment for settings, before Django starts: a throwaway database."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "1"  # loopback receivers are allowed
    os.environ["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "1"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.pop("REDIS_URL", None)
    if args.postgres:
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{PG_DATABASE}"
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["PATCHWORK_VAR_DIR"] = tempfile.mkdtemp(prefix="webhooks-bench-")
    if args.celery:
        os.environ["REDIS_URL"] = REDIS
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    else:
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"
    sys.path.insert(0, str(ROOT))


class Arrivals:
    """The loopback receiver: when each webhook-id first arrived."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        arrivals = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                with arrivals.changed:
                    arrivals.times.setdefault(self.headers["webhook-id"], now)
                    arrivals.changed.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.times) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"only {len(self.times)} of {count} deliveries arrived")
                self.changed.wait(left)


def _deliver_forever(jobs) -> None:
    from apps.webhooks.delivery import delivery_attempt

    while (delivery_id := jobs.get()) is not None:
        try:
            delivery_attempt(delivery_id=delivery_id)
        except Exception as exc:  # as a celery worker would: report, carry on
            print(f"delivery {delivery_id} failed: {exc!r}", file=sys.stderr)


class ProcessWorkers:
    """Worker processes running what the celery task runs, fed by a local queue (no broker)."""

    def __init__(self, count: int) -> None:
        import multiprocessing

        from django.db import connections

        from apps.webhooks import tasks

        context = multiprocessing.get_context("fork")
        self.jobs = context.Queue()
        # Queued delivery tasks (after commit, and retries inside workers) go to the local queue.
        tasks.deliver.apply_async = lambda args, **kwargs: self.jobs.put(args[0])
        connections.close_all()  # each process opens its own connection
        self.processes = [
            context.Process(target=_deliver_forever, args=(self.jobs,), daemon=True)
            for _ in range(count)
        ]
        for process in self.processes:
            process.start()

    def stop(self) -> None:
        for _ in self.processes:
            self.jobs.put(None)
        for process in self.processes:
            process.join(timeout=60)


class CeleryWorkers:
    """`celery -A config worker` processes on the benchmark database and Redis."""

    def __init__(self, count: int) -> None:
        from config.celery import app

        app.control.purge()
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", str(count)]
            + ["--loglevel=WARNING", "--without-mingle", "--without-gossip"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise SystemExit("the celery workers did not start")

    def stop(self) -> None:
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=60)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(name: str, *, events: int, subscribers: int, arrivals: Arrivals, sequential: bool):
    """Record events (one transaction each) and wait for every delivery; one table row."""
    from django.db import transaction

    from apps.accounts.models import User
    from apps.events.models import Event
    from apps.events.services import event_record
    from apps.patches.models import Patch
    from apps.projects.models import Project
    from apps.webhooks.models import Delivery, Webhook

    project = Project.objects.get(linkname="bench")
    owner = User.objects.get(username="bench")
    patch = Patch.objects.get(project=project)
    Webhook.objects.all().delete()
    Webhook.objects.bulk_create(
        Webhook(owner=owner, url=f"{arrivals.url}?s={n}") for n in range(subscribers)
    )
    first_delivery = (Delivery.objects.order_by("-id").values_list("id", flat=True).first()) or 0
    committed: dict[int, float] = {}
    expected = len(arrivals.times)

    started = time.perf_counter()
    for _ in range(events):
        holder: dict[str, Event] = {}
        with transaction.atomic():
            # Runs first among the commit hooks: before the delivery tasks are queued.
            transaction.on_commit(
                lambda h=holder: committed.__setitem__(h["event"].pk, time.perf_counter())
            )
            holder["event"] = event_record(
                category=Event.PATCH_COMPLETED, project=project, patch=patch
            )
        expected += subscribers
        if sequential:
            arrivals.wait_for(expected)
    recorded = time.perf_counter() - started
    arrivals.wait_for(expected)
    finished = max(arrivals.times.values()) if subscribers else time.perf_counter()
    # Arrived is not finished: let the workers log every attempt before the next scenario.
    deadline = time.monotonic() + 120
    while Delivery.objects.exclude(status=Delivery.SUCCEEDED).exists():
        if time.monotonic() > deadline:
            raise SystemExit("deliveries did not finish")
        time.sleep(0.05)

    latencies = []
    for message_id, event_id in Delivery.objects.filter(id__gt=first_delivery).values_list(
        "message_id", "event_id"
    ):
        latencies.append((arrivals.times[message_id] - committed[event_id]) * 1000)
    deliveries = events * subscribers
    return {
        "scenario": name,
        "events": events,
        "subscribers": subscribers,
        "deliveries": deliveries,
        "record ms": recorded / events * 1000,
        "events/s": events / (finished - started),
        "deliveries/s": deliveries / (finished - started) if deliveries else None,
        "p50 ms": percentile(latencies, 0.50) if latencies else None,
        "p95 ms": percentile(latencies, 0.95) if latencies else None,
    }


def setup_data() -> None:
    from django.core.management import call_command

    from apps.accounts.models import User
    from apps.projects.models import Project
    from tests.factories import make_patch

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench", "bench@example.com", "bench")
    project = Project.objects.create(
        linkname="bench", name="Bench", listid="bench.example.com", listemail="b@example.com"
    )
    project.maintainers.add(owner)
    make_patch(project)


def print_table(rows: list[dict], context: str) -> None:
    columns = list(rows[0])
    cells = [
        [
            f"{v:,.1f}" if isinstance(v, float) else ("-" if v is None else str(v))
            for v in row.values()
        ]
        for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(f"\nWebhook fan-out ({context})\n")
    print(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(columns, widths, strict=True))
        )
    )
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    base, loaded = rows[-1], rows[-2]
    ratio = loaded["record ms"] / base["record ms"]
    print(
        f"\nevents/s: events delivered to every subscriber per second (recording included); "
        f"record ms: one event's transaction, commit included.\nRecording an event with "
        f"{loaded['subscribers']} subscribers (outbox rows, queueing, workers busy) takes "
        f"{ratio:.2f}× the time of one without any."
    )


def main() -> None:
    args = parse_args()
    configure(args)
    import django

    django.setup()
    from django.db import connection

    setup_data()
    workers = CeleryWorkers(args.workers) if args.celery else ProcessWorkers(args.workers)
    arrivals = Arrivals()
    try:
        # Connections, query compilation and imports happen once, not in the first row.
        run("warm-up", events=3, subscribers=2, arrivals=arrivals, sequential=True)
        rows = [
            run(
                f"1 event → {args.fanout} subscribers",
                events=args.fanout_events,
                subscribers=args.fanout,
                arrivals=arrivals,
                sequential=True,
            ),
            run(
                f"burst of {args.burst} → {args.burst_subscribers}",
                events=args.burst,
                subscribers=args.burst_subscribers,
                arrivals=arrivals,
                sequential=False,
            ),
            run(
                f"burst of {args.burst} → 0",
                events=args.burst,
                subscribers=0,
                arrivals=arrivals,
                sequential=False,
            ),
        ]
    finally:
        workers.stop()
        connection.close()
    where = "PostgreSQL" if args.postgres else "SQLite"
    how = (
        f"{args.workers} celery worker processes via Redis"
        if args.celery
        else (f"{args.workers} delivery processes fed by a local queue")
    )
    print_table(rows, f"{where}, {how}, receiver on 127.0.0.1")
    if args.json:
        print(json.dumps({"context": f"{where}, {how}", "rows": rows}))


if __name__ == "__main__":
    main()
