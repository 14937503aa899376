"""Processes of the real topology, each owned by the harness and on loopback only.

A PostgreSQL cluster of its own (initdb + pg_ctl in a temp dir, as the
``postgres`` user when run as root), a Redis server of its own on a free port,
daphne, celery workers and beat. Each can be stopped, killed or restarted to
inject a fault; nothing here touches the machine's shared services.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the cluster as the postgres system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return path


class Postgres:
    """A throw-away PostgreSQL cluster in its own directory and port."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.port = free_port()
        self.log = workdir / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str, check: bool = True) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_postgres(
                [_pg_bin("pg_ctl"), "-D", str(self.dir / "data"), "-l", str(self.log)]
                + ["-o", options, "-w", "-t", "120", *args]
            ),
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> Postgres:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.log.parent, "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres")
        if not (self.dir / "data").exists():
            subprocess.run(
                _as_postgres(
                    [_pg_bin("initdb"), "-D", str(self.dir / "data"), "-A", "trust"]
                    + ["-U", "postgres", "-E", "UTF8", "--no-sync"]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        self._ctl("start")
        return self

    def restart(self) -> None:
        """An immediate stop (in-flight transactions die, crash recovery), then start."""
        self._ctl("stop", "-m", "immediate")
        self._ctl("start")

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            self._ctl("stop", "-m", "fast", check=False)

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            cur = conn.execute(statement)
            return cur.fetchall() if cur.description else []

    def create_database(self, name: str) -> str:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)


class Redis:
    """A redis-server of our own: no persistence, so a kill loses every queued task."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.dir = workdir / "redis"
        self.log = workdir / "redis.log"
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> Redis:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
            + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=open(self.log, "ab"),  # noqa: SIM115 - the process owns it
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: port_open(self.port), 30, "redis-server")
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    stop = kill


@dataclass
class Service:
    """One long-running process of ours (daphne, a worker, beat), in its own process group."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    restarts: int = 0
    deaths: list[str] = field(default_factory=list)

    def start(self) -> Service:
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdout=open(self.log, "ab"),  # noqa: SIM115 - the process owns it
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole process group, as an OOM kill or a crash would."""
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self, timeout: float = 30) -> None:
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def supervise(self) -> bool:
        """Restart the process if it died (systemd's Restart=always); True if it had."""
        if self.process is None or self.alive():
            return False
        self.deaths.append(f"exit {self.process.returncode}")
        self.restarts += 1
        self.start()
        return True


def daphne(env: dict[str, str], port: int, log: Path) -> Service:
    argv = [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    # As deployed (deploy/systemd): pooled connections, which must survive the restart.
    return Service("daphne", argv, {**env, "DATABASE_POOL_SIZE": "8"}, log)


def worker(env: dict[str, str], name: str, log: Path) -> Service:
    # Both queues, the default and the webhooks worker's: killing either worker then
    # kills deliveries in flight too, which the fault plan means to test.
    argv = [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "-Q",
        "celery,webhooks",
    ]
    argv += ["--loglevel=WARNING", "--without-mingle", "--without-gossip", "-n", f"{name}@soak"]
    return Service(name, argv, env, log)


def beat(env: dict[str, str], workdir: Path, log: Path) -> Service:
    argv = [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING"]
    argv += ["-s", str(workdir / "beat-schedule")]
    return Service("beat", argv, env, log)
