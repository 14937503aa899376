"""What every benchmark shares: databases, environments, processes, figures."""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable
WORK = Path(os.environ.get("BENCH_DIR", ROOT / "var" / "bench"))
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_SERVER = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
# The databases and Redis databases the benchmarks own (and drop and recreate at will).
DB_PREFIX = os.environ.get("BENCH_DB", "pw_bench")
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "9"))


def db_url(name: str) -> str:
    return f"{PG_SERVER}/{name}"


def redis_url(db: int = REDIS_DB) -> str:
    return f"{REDIS_SERVER}/{db}"


def bench_env(database: str, *, redis_db: int | None = REDIS_DB, **extra: str) -> dict[str, str]:
    """A production-like environment (DEBUG off) pointed at a benchmark database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DEBUG")
    }
    env.update(
        DATABASE_URL=db_url(database),
        SECRET_KEY="bench-not-secret",
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
    )
    if redis_db is not None:
        env["REDIS_URL"] = redis_url(redis_db)
    env.update(extra)
    return env


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_admin(sql: str, database: str = "postgres") -> list[tuple]:
    import psycopg

    with psycopg.connect(db_url(database), autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def drop_database(name: str) -> None:
    pg_admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )
    pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def create_database(name: str, template: str | None = None) -> None:
    drop_database(name)
    pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def manage(database: str, *args: str, redis_db: int | None = None, **kw) -> str:
    """Run manage.py against a benchmark database; returns its stdout."""
    out = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=bench_env(database, redis_db=redis_db),
        check=True,
        capture_output=True,
        text=True,
        **kw,
    )
    return out.stdout


def migrated_template(name: str = f"{DB_PREFIX}_tpl") -> str:
    """A migrated database (default states, tags) to copy from; rebuilt each run."""
    create_database(name)
    manage(name, "migrate", "--noinput", "-v0")
    return name


def redis_flush(db: int = REDIS_DB) -> None:
    import redis

    redis.Redis.from_url(redis_url(db)).flushdb()


# --- processes ---------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    sock.set_inheritable(True)
    return sock


@contextmanager
def web_servers(database: str, processes: int = 2, redis_db: int | None = REDIS_DB):
    """`processes` daphne processes sharing one loopback socket; yields the base URL."""
    WORK.mkdir(parents=True, exist_ok=True)
    sock = listening_socket()
    port = sock.getsockname()[1]
    procs = []
    log = open(WORK / f"daphne-{port}.log", "w")  # noqa: SIM115
    try:
        for _ in range(processes):
            procs.append(
                subprocess.Popen(
                    [str(VENV_BIN / "daphne"), "--fd", str(sock.fileno()), "-v", "0"]
                    + ["config.asgi:application"],
                    cwd=ROOT,
                    # As deployed (deploy/systemd): the web process pools its connections.
                    env={**bench_env(database, redis_db=redis_db), "DATABASE_POOL_SIZE": "8"},
                    pass_fds=[sock.fileno()],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz", procs)
        yield base
    finally:
        for proc in procs:
            stop(proc)
        sock.close()
        log.close()


def wait_http(url: str, procs: Sequence[subprocess.Popen], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"server exited early (see {WORK}/daphne-*.log)")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# --- figures ---------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    """One measured figure, its target and whether it holds."""

    section: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None  # None: informational, no target
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if isinstance(self.value, float) and not self.value.is_integer() or abs(self.value) < 10:
            return f"{self.value:,.2f}" if abs(self.value) < 100 else f"{self.value:,.0f}"
        return f"{self.value:,.0f}"


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, *args, **kwargs) -> Figure:
        figure = Figure(*args, **kwargs)
        self.figures.append(figure)
        return figure

    def extend(self, figures: Iterable[Figure]) -> None:
        self.figures.extend(figures)

    def table(self) -> str:
        rows = [("section", "figure", "value", "unit", "target", "result")]
        for f in self.figures:
            result = "" if f.ok is None else ("PASS" if f.ok else "FAIL")
            rows.append((f.section, f.name, f.shown(), f.unit, f.target, result))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = []
        for index, row in enumerate(rows):
            cells = [
                cell.rjust(widths[i]) if i == 2 else cell.ljust(widths[i])
                for i, cell in enumerate(row)
            ]
            lines.append("  ".join(cells).rstrip())
            if index == 0:
                lines.append("  ".join("-" * w for w in widths))
        passed = sum(1 for f in self.figures if f.ok)
        failed = sum(1 for f in self.figures if f.ok is False)
        lines.append(f"\n{passed} targets hold, {failed} miss")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"info": self.info, "figures": [asdict(f) for f in self.figures]}


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))
