"""``python -m soak``: the fault-injection soak run (see soak/__init__.py and the README)."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from soak import maintainers
from soak.receiver import Receiver
from soak.report import Report, differences, mail_outcomes, sizes
from soak.topology import (
    PYTHON,
    ROOT,
    Postgres,
    Redis,
    Service,
    beat,
    daphne,
    free_port,
    wait_for,
    worker,
)

LIST_ID = "patchwork.lists.example.org"  # what bench.corpus writes


def log(message: str) -> None:
    sys.stderr.write(f"[soak {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def environment(database_url: str, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """A production-like environment (DEBUG off) pointed at the harness's own services."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="soak-not-a-secret",
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        STATIC_MANIFEST="0",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="config.settings",
        # The receiver is on loopback; retries come quickly so the run converges in minutes.
        WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
        WEBHOOK_RETRY_DELAYS="2,4,8,15",
        WEBHOOK_TIMEOUT_SECONDS="5",
        HEARTBEAT_INTERVAL_SECONDS="5",
        HEARTBEAT_MAX_AGE_SECONDS="20",
    )
    if redis_url:
        env.update(REDIS_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="0")
    env.update(extra)
    return env


def probe(env: dict[str, str], *args: str, timeout: float = 3600):
    done = subprocess.run(
        [PYTHON, "-m", "soak.probe", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def make_corpus(workdir: Path, messages: int) -> Path:
    base, big = workdir / "base.mbox", workdir / "archive.mbox"
    subprocess.run(
        [PYTHON, "-m", "bench.corpus", "generate", "--rounds", "3", "-o", str(base)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [PYTHON, "-m", "bench.corpus", "multiply", str(base), "--messages", str(messages)]
        + ["-o", str(big)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return big


# --- the reference run -------------------------------------------------------------------


def clean_run(pg: Postgres, archive: Path) -> tuple[dict, float]:
    env = environment(pg.create_database("soak_clean"))
    migrate(env)
    probe(env, "setup", LIST_ID, "-")
    started = time.monotonic()
    outcome = probe(env, "ingest-in-order", str(archive))
    superseded = probe(env, "grace-over")
    log(f"clean run: {outcome}; superseded after the grace period: {superseded}")
    return probe(env, "snapshot"), time.monotonic() - started


# --- the fault run -----------------------------------------------------------------------


class Feed:
    """The feeder process and what it reports, read in a thread."""

    def __init__(self, env: dict[str, str], archive: Path, rate: float, every: int) -> None:
        self.lines: list[dict] = []
        self.process = subprocess.Popen(
            [PYTHON, "-m", "soak.feeder", str(archive), str(rate), str(every)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=open(archive.parent / "feeder.log", "ab"),  # noqa: SIM115
            text=True,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(json.loads(line))

    def done(self) -> bool:
        return self.process.poll() is not None

    def finish(self) -> None:
        self._thread.join(30)


class Faults:
    """The timeline of injected faults, each logged with its time."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.log: list[str] = []

    def note(self, text: str) -> None:
        entry = f"t+{time.monotonic() - self.started:6.1f}s  {text}"
        self.log.append(entry)
        log(entry)


def redis_waiting(redis: Redis) -> int:
    import redis as redis_client

    try:
        client = redis_client.Redis(port=redis.port)
        return int(client.llen("celery")) + int(client.llen("webhooks"))
    except Exception:
        return -1


def fault_run(
    args, pg: Postgres, redis: Redis, archive: Path, workdir: Path, report: Report, stack: ExitStack
) -> tuple[dict, dict]:
    receiver = Receiver().start()
    stack.callback(receiver.stop)
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    # Beat supersedes the revisions matched by name after a grace period longer than any
    # fault delays a mail (the mail sweep requeues a lost one after 2 minutes, a backlog
    # drains after the outages).
    env = environment(
        pg.create_database("soak_fault"), redis.url(0), SITE_URL=base, SUPERSEDE_GRACE_MINUTES="6"
    )
    migrate(env)
    world = probe(env, "setup", LIST_ID, receiver.url)

    services = _start_services(env, web_port, workdir, stack)
    wait_for(lambda: _answers(base + "/healthz"), 120, "daphne")

    duration = args.messages / args.rate
    faults = Faults()
    injector = _Injector(faults, pg, redis, receiver, services, fail_for=max(60.0, 0.2 * duration))
    feed = Feed(env, archive, args.rate, args.every)
    faults.note(f"feeding {args.messages} messages at {args.rate}/s (~{duration:.0f} s)")
    deadline = time.monotonic() + duration * 4 + args.settle + 600
    health, settled_at = _faults_until_settled(
        injector, feed, env, redis, base, duration=duration, deadline=deadline
    )
    feed.finish()

    report.section("Fault run (parsemail → workers → webhooks, on the real topology)")
    _report_timeline(report, faults, health)
    _report_feed(report, feed, args.messages, settled_at, services)
    snapshot = probe(env, "snapshot")
    deliveries = probe(env, "deliveries")
    leftovers = probe(env, "leftovers")
    _report_deliveries(report, deliveries, receiver)
    expected_leftovers = probe(environment(pg.url("soak_clean")), "leftovers")
    report.check(
        "replies still waiting for a closer parent: as many as in the reference run",
        leftovers["awaited_replies_with_parsed_mail"]
        == expected_leftovers["awaited_replies_with_parsed_mail"],
        f"{leftovers['awaited_replies_with_parsed_mail']} vs "
        f"{expected_leftovers['awaited_replies_with_parsed_mail']} (a reply placed on an "
        "earlier message of its thread keeps waiting for the one it answers)",
    )

    if not args.skip_maintainers:
        _concurrent_maintainers(report, env, base, world, args.rounds)
    return snapshot, env


# (share of the feeding time, what happens, the action _Injector takes)
FAULT_PLAN = [
    (0.15, "kill -9 worker1 (a replacement starts 5 s later)", "kill1"),
    (0.25, "receiver starts failing (503 and dropped connections)", "receiver-off"),
    (0.45, "Redis killed (every queued task lost); back in 30 s", "redis-off"),
    (0.70, "PostgreSQL restarted (immediate stop: crash recovery)", "pg"),
    (0.85, "kill -9 worker2 (a replacement starts 5 s later)", "kill2"),
]


def _faults_until_settled(
    injector: _Injector,
    feed: Feed,
    env: dict,
    redis: Redis,
    base: str,
    *,
    duration: float,
    deadline: float,
) -> tuple[list[tuple[float, str]], float | None]:
    """Inject FAULT_PLAN while feeding, then wait until everything settled or the deadline
    passed: /healthz's changes as seen, and when it settled (None if it did not)."""
    faults = injector.faults
    plan = list(FAULT_PLAN)
    health: list[tuple[float, str]] = []
    while time.monotonic() < deadline:
        now = time.monotonic() - faults.started
        while plan and now >= plan[0][0] * duration:
            _, text, action = plan.pop(0)
            faults.note(text)
            injector.inject(action, now)
        injector.undo_due(now)
        injector.supervise()
        state = _health(base)
        if not health or health[-1][1] != state:
            health.append((now, state))
        if feed.done() and not plan and not injector.pending:
            settled_at = _settled(env, redis, faults, now)
            if settled_at is not None:
                return health, settled_at
        time.sleep(2)
    return health, None


def _start_services(env: dict, web_port: int, workdir: Path, stack: ExitStack) -> list[Service]:
    """daphne, two celery workers and beat, each stopped when the stack closes."""
    services: list[Service] = [daphne(env, web_port, workdir / "daphne.log")]
    services += [worker(env, f"worker{n}", workdir / f"worker{n}.log") for n in (1, 2)]
    services.append(beat(env, workdir, workdir / "beat.log"))
    for service in services:
        service.start()
        stack.callback(service.stop)
    return services


class _Injector:
    """Injects the fault run's faults and undoes each when its time comes; restarts a
    service that died without being killed on purpose."""

    def __init__(
        self,
        faults: Faults,
        pg: Postgres,
        redis: Redis,
        receiver: Receiver,
        services: list[Service],
        *,
        fail_for: float,
    ) -> None:
        self.faults, self.pg, self.redis, self.receiver = faults, pg, redis, receiver
        self.services = services
        self.by_name = {s.name: s for s in services}
        self.fail_for = fail_for
        self.down: set[str] = set()  # stopped on purpose (not restarted by supervision)
        self.pending: list[tuple[float, str]] = []  # (when, what undoes a fault)

    def inject(self, action: str, now: float) -> None:
        if action in ("kill1", "kill2"):
            name = "worker1" if action == "kill1" else "worker2"
            self.by_name[name].kill9()
            self.down.add(name)
            self.pending.append((now + 5, f"start {name}"))
        elif action == "receiver-off":
            self.receiver.failing = True
            self.pending.append((now + self.fail_for, "receiver-on"))
        elif action == "redis-off":
            self.redis.kill()
            self.pending.append((now + 30, "redis-on"))
        elif action == "pg":
            self.pg.restart()
            self.faults.note("PostgreSQL is back")

    def undo_due(self, now: float) -> None:
        for when, action in sorted(self.pending):
            if now < when:
                continue
            self.pending.remove((when, action))
            if action.startswith("start "):
                name = action.split()[1]
                self.by_name[name].start()
                self.down.discard(name)
                self.faults.note(f"{name} started again")
            elif action == "receiver-on":
                self.receiver.failing = False
                self.faults.note(
                    f"receiver answers 200 again ({self.receiver.refused} requests refused)"
                )
            elif action == "redis-on":
                self.redis.start()
                self.faults.note("Redis is back (empty)")

    def supervise(self) -> None:
        for service in self.services:
            if service.name not in self.down and service.supervise():
                self.faults.note(f"{service.name} had died ({service.deaths[-1]}): restarted")


def _settled(env: dict, redis: Redis, faults: Faults, now: float) -> float | None:
    """When nothing is in flight any more (seconds into the run), else None."""
    status = probe(env, "status")
    waiting = redis_waiting(redis)
    if status["in_flight"] == 0 and waiting == 0:
        settled_at = time.monotonic() - faults.started
        faults.note(f"settled: {status}")
        return settled_at
    if int(now) % 30 < 3:
        log(f"settling: {status}, broker queue {waiting}")
    return None


def _report_timeline(report: Report, faults: Faults, health: list[tuple[float, str]]) -> None:
    for entry in faults.log:
        report.say("  " + entry)
    report.say("  /healthz as seen during the run:")
    for when, state in health:
        report.say(f"    t+{when:6.1f}s  {state}")


def _report_feed(
    report: Report, feed: Feed, messages: int, settled_at: float | None, services: list[Service]
) -> None:
    codes: dict[str, int] = {}
    for line in feed.lines:
        for code in line["codes"]:
            codes[str(code)] = codes.get(str(code), 0) + 1
    bounced = [line["n"] for line in feed.lines if line["codes"][-1] != 0]
    via_process = sum(1 for line in feed.lines if line["process"])
    report.say(
        f"  parsemail runs by exit status: {codes} (75 = the MTA keeps the mail and retries); "
        f"{via_process} messages through a separate `manage.py parsemail` process"
    )
    report.check(
        "every message fed",
        len(feed.lines) == messages,
        f"{len(feed.lines)} of {messages}",
    )
    report.check(
        "no message bounced (parsemail always ended 0)",
        not bounced,
        f"{len(bounced)} bounced" + (f", e.g. #{bounced[:5]}" if bounced else ""),
    )
    report.check(
        "everything settled (no pending mail or delivery, empty broker queue)",
        settled_at is not None,
        f"after {settled_at:.0f} s" if settled_at is not None else "timed out",
    )
    deaths = {s.name: s.deaths for s in services if s.deaths}
    report.check("no process died unexpectedly", not deaths, json.dumps(deaths) if deaths else "")


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
        return True
    except httpx.HTTPError:
        return False


def _health(base: str) -> str:
    try:
        response = httpx.get(base + "/healthz", timeout=10)
        checks = response.json().get("checks", {})
        bad = sorted(name for name, check in checks.items() if not check.get("ok"))
        return f"{response.status_code}" + (f" ({', '.join(bad)} failing)" if bad else "")
    except (httpx.HTTPError, ValueError) as exc:
        return f"no answer ({type(exc).__name__})"


def _report_deliveries(report: Report, deliveries: dict, receiver: Receiver) -> None:
    events = deliveries["events"]
    report.say(f"  events: {events}; receiver refused {receiver.refused} requests while failing")
    accepted = set(receiver.accepted)
    for url, hook in deliveries["webhooks"].items():
        succeeded = set(hook["succeeded_ids"])
        report.say(
            f"  webhook {url}: {hook['deliveries']} deliveries {hook['status']}, "
            f"{hook['retried']} needed retries (at most {hook['max_attempts']} attempts)"
        )
        report.check(f"{url}: active", hook["active"], hook["disabled_reason"])
        report.check(
            f"{url}: every event has exactly one delivery",
            hook["events_without_delivery"] == 0 and hook["events_with_several_deliveries"] == 0,
            f"{hook['events_without_delivery']} without, "
            f"{hook['events_with_several_deliveries']} with several",
        )
        report.check(
            f"{url}: every delivery succeeded",
            hook["status"] == {"succeeded": hook["deliveries"]},
            json.dumps(hook["status"]),
        )
        missing = succeeded - accepted
        report.check(
            f"{url}: the receiver got every succeeded delivery",
            not missing,
            f"{len(missing)} never arrived",
        )
    repeats = sum(n - 1 for n in receiver.accepted.values() if n > 1)
    report.say(
        f"  the receiver accepted {len(accepted)} distinct deliveries, {repeats} of them "
        "more than once (at-least-once: a worker killed after sending redelivers)"
    )


def _concurrent_maintainers(report: Report, env: dict, base: str, world: dict, rounds: int) -> None:
    patch = probe(env, "pick-patch")
    before = probe(env, "state-history", str(patch["id"]))
    outcomes = maintainers.run(base, patch, world["users"], world["password"], rounds)
    after = probe(env, "state-history", str(patch["id"]))
    new_events = after["events"][len(before["events"]) :]
    report.section("Concurrent maintainers (REST, XML-RPC and the web UI on one patch at once)")
    for out in outcomes:
        report.say(
            f"  {out.interface}: responses {dict(out.statuses)}"
            + (f", errors {out.errors[:3]}" if out.errors else "")
        )
    errors = sum(out.server_errors for out in outcomes) + sum(len(o.errors) for o in outcomes)
    report.check("no 5xx and no failed request", errors == 0, f"{errors}")
    ok = {"REST": {200}, "XML-RPC": {200}, "web UI": {302}}
    refused = sum(n for o in outcomes for s, n in o.statuses.items() if s not in ok[o.interface])
    report.check("every write was accepted", refused == 0, f"{refused} refused")
    problems = maintainers.history_problems(after)
    report.say(
        f"  {len(new_events)} state-change events for {rounds * len(outcomes)} writes "
        f"(writes setting the state it already had change nothing); final state "
        f"{after['state']}"
    )
    report.check(
        "last write wins: the events form one unbroken chain ending in the final state",
        not problems,
        "; ".join(problems[:3]),
    )
    actors = {e["actor"] for e in new_events}
    report.check(
        "each change has its event, by its maintainer",
        bool(new_events) and actors <= set(world["users"]),
        f"actors {sorted(actors)}",
    )


# --- parallel ingestion ------------------------------------------------------------------


def shuffled_run(
    pg: Postgres,
    archive: Path,
    workdir: Path,
    expected: dict,
    report: Report,
    seed: int,
    workers: int = 4,
) -> None:
    env = environment(pg.create_database(f"soak_shuffled_{seed}"))
    migrate(env)
    probe(env, "setup", LIST_ID, "-")
    ids = probe(env, "store-shuffled", str(archive), str(seed))
    slices = []
    for n in range(workers):
        path = workdir / f"ids-{n}.json"
        path.write_text(json.dumps(ids[n::workers]))
        slices.append(path)
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "soak.probe", "ingest-ids", str(p)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for p in slices
    ]
    failures = []
    for proc in procs:
        out, err = proc.communicate(timeout=7200)
        if proc.returncode:
            failures.append(err[-1000:])
    seconds = time.monotonic() - started
    probe(env, "grace-over")
    actual = probe(env, "snapshot")
    report.section(
        f"Parallel ingestion: the archive shuffled (seed {seed}), {workers} workers at once, "
        "against in-order single-worker ingestion"
    )
    report.say(f"  {len(ids)} mails in {seconds:.0f} s; {sizes(actual)}")
    report.check("every worker finished cleanly", not failures, "; ".join(failures)[:500])
    report.diff("shuffled parallel vs in order", differences(expected, actual))


# --- fuzzing -----------------------------------------------------------------------------


def fuzz_runs(pg: Postgres, args, report: Report) -> None:
    env = environment(pg.create_database("soak_fuzz"))
    migrate(env)
    report.section("Fuzzing the mail parser and ingestion")
    done = subprocess.run(
        [PYTHON, "-m", "soak.fuzz", "hypothesis", str(args.fuzz_examples)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if done.returncode:
        report.check("hypothesis fuzz ran", False, done.stderr[-500:])
    else:
        result = json.loads(done.stdout.splitlines()[-1])
        report.say(
            f"  hypothesis: {result['examples']} messages parsed and ingested in "
            f"{result['seconds']} s; outcomes {result['statuses']}"
        )
        report.check(
            "hypothesis: no exception escaped",
            not result["escapes"],
            json.dumps(result["escapes"][:2])[:500],
        )
        report.check(
            "hypothesis: nothing partial stored by a failed or ignored mail",
            not result["partial"],
            json.dumps(result["partial"][:2])[:500],
        )
    done = subprocess.run(
        [PYTHON, "-m", "soak.fuzz", "atheris", str(args.atheris_seconds)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=args.atheris_seconds + 600,
    )
    result = json.loads(done.stdout.splitlines()[-1]) if done.stdout else {"skipped": done.stderr}
    if "skipped" in result:
        report.say(f"  atheris: skipped — {result['skipped']}")
    else:
        report.say(
            f"  atheris (coverage-guided, parser): {result['runs']} inputs in {result['seconds']} s"
        )
        report.check(
            "atheris: no exception escaped the parser",
            not result["escapes"],
            json.dumps(result["escapes"])[:800],
        )


# --- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="pw-soak-"))
    workdir.chmod(0o755)  # the postgres user writes its cluster below it
    report = Report()
    report.say(f"Patchwork soak run: {args.messages} messages, work directory {workdir}")
    with ExitStack() as stack:
        pg = Postgres(workdir).start()
        stack.callback(pg.stop)
        redis = Redis(workdir).start()
        stack.callback(redis.stop)
        log(f"PostgreSQL on 127.0.0.1:{pg.port}, Redis on 127.0.0.1:{redis.port}, in {workdir}")
        archive = make_corpus(workdir, args.messages)
        log("reference run: in order, one worker, no faults")
        expected, clean_seconds = clean_run(pg, archive)
        report.section("Reference run (in order, one worker, no faults)")
        report.say(f"  {sizes(expected)} in {clean_seconds:.0f} s; mail {mail_outcomes(expected)}")
        if not args.skip_faults:
            log("fault run")
            actual, _env = fault_run(args, pg, redis, archive, workdir, report, stack)
            report.say(f"  {sizes(actual)}; mail {mail_outcomes(actual)}")
            report.diff("fault run vs reference", differences(expected, actual))
        for seed in range(args.shuffle_seed, args.shuffle_seed + args.shuffles):
            log(f"parallel ingestion, shuffle seed {seed}")
            shuffled_run(pg, archive, workdir, expected, report, seed)
        if not args.skip_fuzz:
            log("fuzzing")
            fuzz_runs(pg, args, report)
    report.say("")
    report.say(f"Total time {time.monotonic() - started:.0f} s")
    print(report.text())
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"logs kept in {workdir}")
    return 0 if report.passed else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--messages", type=int, default=3000, help="archive size (default 3000)")
    parser.add_argument("--rate", type=float, default=12.0, help="messages fed per second")
    parser.add_argument(
        "--every",
        type=int,
        default=50,
        help="one message in EVERY goes through a separate parsemail process",
    )
    parser.add_argument(
        "--settle",
        type=int,
        default=2400,
        help="seconds allowed to settle after feeding (default 2400)",
    )
    parser.add_argument("--rounds", type=int, default=15, help="writes per concurrent maintainer")
    parser.add_argument("--fuzz-examples", type=int, default=1500)
    parser.add_argument("--atheris-seconds", type=int, default=120)
    parser.add_argument(
        "--shuffles",
        type=int,
        default=1,
        help="parallel ingestion runs, each with its own shuffle (default 1)",
    )
    parser.add_argument("--shuffle-seed", type=int, default=20261127, help="the first shuffle")
    parser.add_argument("--skip-maintainers", action="store_true")
    parser.add_argument("--skip-fuzz", action="store_true")
    parser.add_argument(
        "--skip-faults",
        action="store_true",
        help="only the reference run, parallel ingestion (and fuzzing)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return parser


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main())
