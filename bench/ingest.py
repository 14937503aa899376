"""Ingestion: parsearchive and the celery path against the floor, on the same archive.

The *floor* iterates the same mbox with the same iterator parsearchive uses and
parses every message with the standard library (``email.message_from_bytes``,
the compat32 policy the parser uses) — and does nothing else. It is what any
ingestion written in Python on this machine must at least spend, measured in
the same run, so the ratios hold on a busy or a quiet machine alike.

Each measurement runs in its own process (``python -m bench.ingest stage …``)
so peak memory is that stage's own; SQL statements are counted by a wrapper on
the database connection (every statement, whatever code sends it).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.common import (
    DB_PREFIX,
    PYTHON,
    REDIS_DB,
    ROOT,
    WORK,
    Figure,
    bench_env,
    create_database,
    db_url,
    peak_rss_mb,
    redis_flush,
    stop,
)

# Targets of issue 11 (shares of the compat32 floor).
PARSEARCHIVE_RATIO = 0.25
CELERY_RATIO = 0.15
MAX_STATEMENTS = 10
# Issue 22: parsearchive at least 5x upstream Patchwork 3.2.1's 58.5 msgs/s on this
# machine (the side-by-side run), and at least 8 % of the policy.default floor
# measured in the same run (upstream was 1.5 %, this project 2.1 % on the day).
UPSTREAM_RATE = 58.5
PARSEARCHIVE_RATE = 300.0
PARSEARCHIVE_DEFAULT_RATIO = 0.08
# Issue 22: the celery path at least twice as fast as before it, as a share of the floor
# measured in the same run. The baseline: `./dev bench --quick --only ingest` of e16515f
# (the tree before issue 22), 2026-12-07 03:38 UTC on the shared 2-core machine (load
# average 5): floor 2,114 msgs/s, celery path 9.59 msgs/s = 0.454 % of the floor. Re-measure
# it on the machine that judges (check out e16515f, same command) and put its figure here.
CELERY_BASELINE_FLOOR_SHARE = 0.00454
CELERY_SPEEDUP = 2.0
# Memory is flat when the full archive peaks at most this much above a quarter of it.
FLAT_TOLERANCE = 0.10
WORKERS = 2


# --- stages (run inside a Django process) ---------------------------------------------------


def _setup() -> None:
    import django

    django.setup()


def stage_floor(path: Path) -> dict:
    """Iterate the mbox and parse each message with the stdlib, nothing else: with the
    compat32 policy the parser uses, then with policy.default (issue 22's floor)."""
    _setup()
    import email
    import email.policy

    from apps.mail.archive import iter_mbox
    from apps.mail.parse import message_from_bytes

    started = time.perf_counter()
    count = 0
    for raw, _ in iter_mbox(path):
        message_from_bytes(raw)
        count += 1
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for raw, _ in iter_mbox(path):
        email.message_from_bytes(raw, policy=email.policy.default)
    default_seconds = time.perf_counter() - started
    return {
        "messages": count,
        "seconds": seconds,
        "default_seconds": default_seconds,
        "peak_rss_mb": peak_rss_mb(),
    }


def stage_parsearchive(path: Path) -> dict:
    """manage.py parsearchive, in this process, with its statements counted."""
    _setup()
    from io import StringIO

    from django.core.management import call_command

    from bench import querycount

    querycount.install()
    out = StringIO()
    backend, writer = _backend_cpu(), time.process_time()
    started = time.perf_counter()
    call_command("parsearchive", str(path), "--no-progress", stdout=out)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "statements": querycount.statements(),
        # This process's CPU (the parse workers' is its children's) and its backend's.
        "writer_cpu_seconds": time.process_time() - writer,
        "backend_cpu_seconds": _backend_cpu() - backend,
        "peak_rss_mb": peak_rss_mb(),
        "summary": out.getvalue().strip(),
    }


def _backend_cpu() -> float:
    """CPU seconds this process's PostgreSQL backend has used (0 if it is not on this host)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stage_feed(path: Path) -> dict:
    """What parsemail does for each message (store it, queue its ingestion), in one process."""
    _setup()
    from apps.mail.archive import iter_mbox
    from apps.mail.intake import mail_store
    from apps.mail.tasks import mail_enqueue_on_commit
    from bench import querycount

    querycount.install()
    started = time.perf_counter()
    count = 0
    for raw, _ in iter_mbox(path):
        mail_enqueue_on_commit(mail_store(raw))
        count += 1
    seconds = time.perf_counter() - started
    return {
        "messages": count,
        "seconds": seconds,
        "statements": querycount.statements(),
        "peak_rss_mb": peak_rss_mb(),
    }


def stage_one_by_one(path: Path) -> dict:
    """The reference for the batches: parsearchive as it was, one transaction a mail."""
    _setup()
    from apps.mail.archive import iter_mbox
    from apps.mail.context import IngestContext
    from apps.mail.intake import peek_msgid
    from apps.mail.services import mail_store_ingest
    from apps.series.revisions import revisions_supersede_due

    context = IngestContext()
    seen: set[str] = set()
    started = time.perf_counter()
    count = 0
    for raw, _ in iter_mbox(path):
        count += 1
        msgid = peek_msgid(raw)
        if msgid and msgid in seen:  # a Message-ID already stored is skipped, as parsearchive
            continue
        seen.add(msgid)
        mail_store_ingest(raw, context=context)
    revisions_supersede_due()
    return {"messages": count, "seconds": time.perf_counter() - started}


STAGES = {
    "floor": stage_floor,
    "parsearchive": stage_parsearchive,
    "feed": stage_feed,
    "one-by-one": stage_one_by_one,
}


# --- orchestration -------------------------------------------------------------------------


def run_stage(stage: str, path: Path, database: str, redis: bool = True) -> dict:
    proc = subprocess.run(
        [PYTHON, "-m", "bench.ingest", "stage", stage, str(path)],
        cwd=ROOT,
        env=bench_env(database, redis_db=REDIS_DB if redis else None),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"stage {stage} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def outcome(database: str) -> dict:
    """What the archive became: counts by mail status and of stored objects."""
    import psycopg

    with psycopg.connect(db_url(database)) as conn:
        statuses = dict(
            conn.execute(
                "SELECT status, count(*) FROM mail_incomingmail GROUP BY status"
            ).fetchall()
        )
        counts = {}
        for name, table in (
            ("patches", "patches_patch"),
            ("covers", "patches_cover"),
            ("comments", "patches_patchcomment"),
            ("cover_comments", "patches_covercomment"),
            ("series", "series_series"),
            ("events", "events_event"),
        ):
            counts[name] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {"statuses": statuses, **counts}


def _add_project(database: str) -> None:
    import psycopg

    with psycopg.connect(db_url(database)) as conn:
        conn.execute(
            "INSERT INTO projects_project (linkname, name, listid, listemail, subject_match, "
            "web_url, scm_url, webscm_url, list_archive_url, list_archive_url_format, "
            "commit_url_format, send_notifications, use_tags, show_dependencies, "
            "auto_supersede, cover_trailers) VALUES ('patchwork', 'Patchwork', "
            "'patchwork.lists.example.org', 'patchwork@lists.example.org', '', '', '', '', '', "
            "'', '', false, true, false, true, true)"
        )


def fresh_database(name: str, template: str) -> None:
    create_database(name, template)
    _add_project(name)


def run_celery(path: Path, database: str, messages: int, timeout: float = 3600) -> dict:
    """parsemail's intake in one process feeding Redis, WORKERS celery processes ingesting."""
    redis_flush()
    for old in WORK.glob("celery-*"):
        old.unlink()
    env = bench_env(database, redis_db=REDIS_DB)
    log = open(WORK / "celery.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "bench.celery_app", "worker", "--pool=prefork"]
        + [f"--concurrency={WORKERS}", "--without-mingle", "--without-gossip", "-l", "WARNING"]
        + ["-n", f"bench-{time.time_ns()}@localhost"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not (WORK / "celery-ready").exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"celery worker did not start (see {WORK}/celery.log)")
            time.sleep(0.2)
        import psycopg

        started = time.perf_counter()
        feed = run_stage("feed", path, database)
        done_at = None
        with psycopg.connect(db_url(database), autocommit=True) as conn:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pending, total = conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) "
                    "FROM mail_incomingmail"
                ).fetchone()
                if total >= messages and pending == 0:
                    done_at = time.perf_counter()
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"celery worker died (see {WORK}/celery.log)")
                time.sleep(0.25)
        if done_at is None:
            raise RuntimeError("celery path did not finish in time")
        time.sleep(0.5)  # let the last task's postrun write its counts
    finally:
        stop(worker, timeout=60)
        log.close()
    workers = [json.loads(p.read_text()) for p in WORK.glob("celery-[0-9]*.json")]
    return {
        "seconds": done_at - started,
        "feed": feed,
        "workers": workers,
        "statements": feed["statements"] + sum(w["statements"] for w in workers),
        "worker_cpu_seconds": sum(w.get("cpu_seconds", 0) for w in workers),
        "peak_rss_mb": max([w["peak_rss_mb"] for w in workers] or [0]),
    }


def bench_ingest(archive: Path, small: Path, template: str, messages: int) -> tuple[list, dict]:
    """Every ingestion figure for `archive` (and `small`, a quarter of it, for memory)."""
    database = DB_PREFIX
    raw: dict = {"messages": messages}
    raw["floor"] = floor = run_stage("floor", archive, database, redis=False)
    rate_floor = floor["messages"] / floor["seconds"]
    rate_default = floor["messages"] / floor["default_seconds"]

    fresh_database(database, template)
    raw["parsearchive"] = pa = run_stage("parsearchive", archive, database)
    raw["parsearchive"]["outcome"] = outcome(database)

    fresh_database(database, template)
    raw["parsearchive_small"] = run_stage("parsearchive", small, database)

    fresh_database(database, template)
    raw["celery"] = cel = run_celery(archive, database, messages)
    raw["celery"]["outcome"] = outcome(database)

    s = f"ingest ({messages:,} msgs)"
    figures = [
        Figure(s, "floor: stdlib parse only (compat32)", rate_floor, "msgs/s"),
        Figure(s, "floor: stdlib parse, policy.default", rate_default, "msgs/s"),
    ]
    figures += _parsearchive_figures(
        s, messages, rate_floor, rate_default, pa, raw["parsearchive_small"]
    )
    figures += _celery_figures(s, messages, rate_floor, cel, pa["outcome"])
    return figures, raw


def _parsearchive_figures(
    s: str, messages: int, rate_floor: float, rate_default: float, pa: dict, small_pa: dict
) -> list[Figure]:
    rate_pa = messages / pa["seconds"]
    per_msg_pa = pa["statements"] / messages
    growth = pa["peak_rss_mb"] / small_pa["peak_rss_mb"] - 1
    return [
        Figure(
            s,
            "parsearchive",
            rate_pa,
            "msgs/s",
            f">= {PARSEARCHIVE_RATE:.0f}",
            rate_pa >= PARSEARCHIVE_RATE,
            note=f"{rate_pa / UPSTREAM_RATE:.1f}x upstream 3.2.1 in issue 22's run",
        ),
        Figure(
            s,
            "parsearchive / policy.default floor",
            100 * rate_pa / rate_default,
            "%",
            f">= {PARSEARCHIVE_DEFAULT_RATIO:.0%}",
            rate_pa / rate_default >= PARSEARCHIVE_DEFAULT_RATIO,
        ),
        Figure(
            s,
            "parsearchive / compat32 floor",
            100 * rate_pa / rate_floor,
            "%",
            f">= {PARSEARCHIVE_RATIO:.0%}",
            rate_pa / rate_floor >= PARSEARCHIVE_RATIO,
        ),
        Figure(
            s,
            "parsearchive SQL statements / msg",
            per_msg_pa,
            "stmts",
            f"<= {MAX_STATEMENTS}",
            per_msg_pa <= MAX_STATEMENTS,
        ),
        Figure(s, "parsearchive peak memory", pa["peak_rss_mb"], "MiB"),
        Figure(
            s,
            "memory growth, 1/4 -> full archive",
            100 * growth,
            "%",
            f"<= {FLAT_TOLERANCE:.0%} (flat)",
            growth <= FLAT_TOLERANCE,
            note=f"{small_pa['peak_rss_mb']:.0f} -> {pa['peak_rss_mb']:.0f} MiB",
        ),
    ]


def _celery_figures(
    s: str, messages: int, rate_floor: float, cel: dict, pa_outcome: dict
) -> list[Figure]:
    rate_cel = messages / cel["seconds"]
    per_msg_cel = cel["statements"] / messages
    cel_outcome = cel["outcome"]
    same = {k: v for k, v in pa_outcome.items() if k != "events"} == {
        k: v for k, v in cel_outcome.items() if k != "events"
    }
    speedup = rate_cel / rate_floor / CELERY_BASELINE_FLOOR_SHARE
    return [
        Figure(s, f"celery path ({WORKERS} workers)", rate_cel, "msgs/s"),
        Figure(
            s,
            "celery path / compat32 floor",
            100 * rate_cel / rate_floor,
            "%",
            f">= {CELERY_RATIO:.0%}",
            rate_cel / rate_floor >= CELERY_RATIO,
        ),
        Figure(
            s,
            "celery path / floor, vs before issue 22",
            speedup,
            "x",
            f">= {CELERY_SPEEDUP:.0f}x",
            speedup >= CELERY_SPEEDUP,
            note=f"baseline {100 * CELERY_BASELINE_FLOOR_SHARE:.3f} % of the floor (e16515f)",
        ),
        Figure(
            s,
            "celery worker CPU / msg",
            1000 * cel.get("worker_cpu_seconds", 0) / messages,
            "ms",
            note="all worker processes, every thread",
        ),
        Figure(
            s,
            "celery SQL statements / msg",
            per_msg_cel,
            "stmts",
            f"<= {MAX_STATEMENTS}",
            per_msg_cel <= MAX_STATEMENTS,
            note="intake + workers",
        ),
        Figure(s, "celery worker peak memory", cel["peak_rss_mb"], "MiB"),
        Figure(
            s,
            "celery result = parsearchive result",
            None,
            "",
            "same objects",
            same,
            note=json.dumps({"parsearchive": pa_outcome, "celery": cel_outcome}),
        ),
    ]


def shuffled_copy(path: Path, seed: int) -> Path:
    """The archive's messages in a shuffled order (the same bytes each)."""
    from apps.mail.archive import iter_mbox

    messages = [raw for raw, _ in iter_mbox(path)]
    random.Random(seed).shuffle(messages)
    out = path.with_name(f"{path.stem}-shuffled-{seed}.mbox")
    with open(out, "wb") as fh:
        for raw in messages:
            fh.write(b"From bench@example.org Mon Jan  1 00:00:00 2024\n")
            fh.write(raw if raw.endswith(b"\n") else raw + b"\n")
            fh.write(b"\n")
    return out


def snapshot_of(database: str) -> dict:
    """The soak's picture of what ingestion produced (soak/probe.py), free of ids and order."""
    proc = subprocess.run(
        [PYTHON, "-m", "soak.probe", "snapshot"],
        cwd=ROOT,
        env=bench_env(database, redis_db=None),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def identity(path: Path, shuffle: int | None = None) -> dict:
    """parsearchive (batched) and the one-by-one reference on two fresh databases: the
    soak's comparison of their outcomes (every section empty: identical)."""
    from bench.common import migrated_template
    from soak.report import differences

    if shuffle is not None:
        path = shuffled_copy(path, shuffle)
    template = migrated_template()
    runs = {}
    for name, stage in (("batched", "parsearchive"), ("one_by_one", "one-by-one")):
        database = f"{DB_PREFIX}_{name}"
        fresh_database(database, template)
        runs[name] = run_stage(stage, path, database)
        runs[name]["snapshot"] = snapshot_of(database)
    found = differences(runs["one_by_one"]["snapshot"], runs["batched"]["snapshot"])
    sizes = {k: len(v) for k, v in runs["batched"]["snapshot"].items()}
    return {
        "archive": str(path),
        "identical": not any(found.values()),
        "differences": {k: v[:20] for k, v in found.items() if v},
        "sizes": sizes,
        "seconds": {name: run["seconds"] for name, run in runs.items()},
    }


USAGE = """usage: python -m bench.ingest stage floor|parsearchive|feed|one-by-one MBOX
       python -m bench.ingest identity MBOX [SHUFFLE_SEED]"""


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "stage":
        result = STAGES[argv[1]](Path(argv[2]))
        print(json.dumps(result))
        return 0
    if len(argv) in (2, 3) and argv[0] == "identity":
        for key, value in bench_env(DB_PREFIX, redis_db=None).items():
            os.environ.setdefault(key, value)
        _setup()
        seed = int(argv[2]) if len(argv) == 3 else None
        result = identity(Path(argv[1]).resolve(), seed)
        print(json.dumps(result, indent=1))
        return 0 if result["identical"] else 1
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
