"""Live pages: event commit → update received by a websocket client, p50/p95 over a burst.

    .venv/bin/python bench/live_latency.py [--quick] [--events N] [--clients 100,1000] [--json]

Runs the real topology on loopback: two daphne processes serving the ASGI app on
one socket, the Redis channel layer, PostgreSQL. It makes a throwaway database
(LIVE_BENCH_DB, default BENCH_DB's prefix + "_live") on BENCH_PG (default the local
server) and uses Redis db LIVE_BENCH_REDIS_DB (default BENCH_REDIS_DB) on
BENCH_REDIS. Then, with 1, 100
and 1,000 websocket clients (one asyncio process) following a project's patch
list — one in ten signed in as one of the project's maintainers, the rest
anonymous — it commits a burst of state changes (back to back, one transaction
each) and times, for every client and event, from the commit to the client
receiving the message that carries it. Targets (issue 21): p95 under 300 ms on
100 pages, under 1 s on 1,000 spread over the two daphne processes. It also
reports the daphne processes' resident memory per idle connection (their RSS
growth from no page open to 1,000 open, divided by 1,000). --json adds one JSON
line at the end (for bench/run.py).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import struct
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    DB_PREFIX,
    bench_env,
    create_database,
    drop_database,
    manage,
    percentile,
    web_servers,
)
from bench.common import REDIS_DB as BENCH_REDIS_DB  # noqa: E402

HEAD = re.compile(
    rb'\{"type": "events", "events": \[(?P<events>[0-9, ]*)\], "cursor": [0-9]+, '
    rb'"replay": (?P<replay>true|false)'
)
# Named after the bench's own (BENCH_DB, BENCH_REDIS_DB), so two worktrees' runs don't collide.
DATABASE = os.environ.get("LIVE_BENCH_DB", f"{DB_PREFIX}_live")
REDIS_DB = int(os.environ.get("LIVE_BENCH_REDIS_DB", str(BENCH_REDIS_DB)))
# Clients -> the p95 target (issue 21).
TARGETS_MS = {1: 300.0, 100: 300.0, 1000: 1000.0}
CLIENT_COUNTS = (1, 100, 1000)
# One client in this many is signed in (as one of MAINTAINERS maintainers).
SIGNED_IN_EVERY = 10
MAINTAINERS = 5
CONNECT_AT_ONCE = 10


def setup_django() -> None:
    os.environ.update(bench_env(DATABASE, redis_db=REDIS_DB))
    import django

    django.setup()


def make_project(events: int):
    """A project with one patch per event of the burst (each event changes one row)."""
    from apps.projects.models import Person, Project, State
    from tests.factories import make_patch

    project = Project.objects.create(
        linkname="live-bench",
        name="Live bench",
        listid="live-bench.example.com",
        listemail="live-bench@example.com",
    )
    submitter = Person.objects.create(email="bench@example.com", name="Bench")
    new = State.objects.get(slug="new")
    patches = [make_patch(project, submitter=submitter, state=new) for _ in range(events)]
    return project, patches


def maintainer_cookies(project) -> list[str]:
    """Session cookies of MAINTAINERS users who maintain the project (signed in once)."""
    from django.conf import settings
    from django.test import Client

    from apps.accounts.models import User

    cookies = []
    for n in range(MAINTAINERS):
        user = User.objects.create_user(username=f"bench-maintainer-{n}", password="x")
        project.maintainers.add(user)
        client = Client()
        client.force_login(user)
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    return cookies


def burst(project_id: int, round_no: int) -> dict[int, float]:
    """Commit one state change per patch, back to back; note when each committed."""
    from django.db import transaction

    from apps.events.models import Event
    from apps.patches.models import Patch
    from apps.patches.services import patch_update
    from apps.projects.models import State

    state = State.objects.get(slug="under-review" if round_no % 2 == 0 else "new")
    stamps: dict[int, float] = {}
    for patch in Patch.objects.filter(project_id=project_id).order_by("id"):
        committed: list[float] = []
        with transaction.atomic():
            # Registered first, so it runs before the broadcast does: the commit instant.
            transaction.on_commit(lambda c=committed: c.append(time.monotonic()))
            patch_update(patch=patch, actor=None, state=state)
            event_id = (
                Event.objects.filter(patch=patch).order_by("-id").values_list("id", flat=True)[0]
            )
        stamps[event_id] = committed[0]
    return stamps


def committer(project_id: int, round_no: int) -> None:
    """The burst runs in its own process, as a web or worker process would make changes,
    so it does not share an interpreter with the clients it is timed by."""
    setup_django()
    print("ready", flush=True)
    sys.stdin.readline()
    stamps = burst(project_id, round_no)
    print(json.dumps({str(k): v for k, v in stamps.items()}), flush=True)


def daphne_pids() -> list[int]:
    """This process's daphne children."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"daphne" in cmdline:
            pids.append(int(entry.name))
    return sorted(pids)


def web_cpu_seconds() -> float:
    """CPU time used so far by this process's daphne children (user + system)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in daphne_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def daphne_rss_kib() -> dict[int, int]:
    """Resident memory of each daphne child (KiB)."""
    rss = {}
    for pid in daphne_pids():
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1])
    return rss


def daphne_sockets() -> dict[int, int]:
    """Open TCP sockets of each daphne child (its websocket connections, and a few more)."""
    counts = {}
    for pid in daphne_pids():
        n = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                n += os.readlink(fd).startswith("socket:")
            except OSError:
                continue
        counts[pid] = n
    return counts


def raise_fd_limit() -> int:
    """As many open files as the hard limit allows (1,000 sockets here, 500 a daphne)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def latest_event_id() -> int:
    from apps.events.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


async def ws_open(host: str, port: int, path: str, origin: str, cookie: str = ""):
    """A websocket client connection (RFC 6455), just what this benchmark needs."""
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    cookie_header = f"Cookie: {cookie}\r\n" if cookie else ""
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n{cookie_header}\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(f"websocket refused: {head.decode(errors='replace')}")
    return reader, writer


def ws_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as clients must send."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def ws_read(reader) -> tuple[int, bytes]:
    """One (unfragmented, unmasked) server frame: (opcode, payload)."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", await reader.readexactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", await reader.readexactly(8))
    return first & 0x0F, await reader.readexactly(size)


class Clients:
    """n websocket clients on the project's list page, noting when each event reaches each."""

    def __init__(self, url: str, project_id: int, n: int, last: int, cookies: list[str]):
        self.url, self.project_id, self.n, self.last = url, project_id, n, last
        self.cookies = cookies
        self.received: list[dict[int, float]] = [{} for _ in range(n)]
        self.messages = 0
        self.retries = 0
        self.ready = 0
        self.tasks: list[asyncio.Task] = []
        self.writers: list = []

    async def connect(self) -> None:
        parsed = urlparse(self.url)

        async def one(index: int) -> None:
            signed_in = self.cookies and index % SIGNED_IN_EVERY == SIGNED_IN_EVERY - 1
            cookie = self.cookies[index % len(self.cookies)] if signed_in else ""
            for attempt in range(5):
                try:
                    reader, writer = await ws_open(
                        parsed.hostname,
                        parsed.port,
                        f"/ws/list/{self.project_id}/",
                        self.url,
                        cookie,
                    )
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    # Daphne drops a handshake not accepted within 5 s (a busy machine):
                    # the page's script would retry, so does this client.
                    self.retries += 1
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.5)
            resume = {"type": "resume", "last": self.last, "patches": []}
            writer.write(ws_frame(0x1, json.dumps(resume).encode()))
            self.writers.append(writer)
            self.tasks.append(asyncio.create_task(self.listen(index, reader, writer)))

        # A few handshakes at a time, as pages open: daphne drops a handshake its
        # consumer does not accept within 5 s, and each process opens pages one at a time.
        for start in range(0, self.n, CONNECT_AT_ONCE):
            batch = range(start, min(self.n, start + CONNECT_AT_ONCE))
            await asyncio.gather(*(one(i) for i in batch))
        await self.wait(lambda: self.ready >= self.n, 120, "clients to resume")

    async def listen(self, index: int, reader, writer) -> None:
        received = self.received[index]
        while True:
            try:
                opcode, payload = await ws_read(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            now = time.monotonic()  # CLOCK_MONOTONIC: the committer process's clock too
            if opcode == 0x9:  # ping: answer, or the server hangs up
                writer.write(ws_frame(0xA, payload))
                continue
            if opcode == 0x8:
                return
            if opcode != 0x1:
                continue
            # Only the head is read (the rendered fragments follow it): a hundred clients
            # in one process must not be what is measured.
            head = HEAD.match(payload)
            if head is None:
                continue
            if head["replay"] == b"true":
                self.ready += 1
                continue
            self.messages += 1
            for event_id in head["events"].split(b","):
                if event_id.strip():
                    received.setdefault(int(event_id), now)

    async def wait(self, done, timeout: float, what: str) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                print(f"  (timed out waiting for {what})", file=sys.stderr)
                return False
            await asyncio.sleep(0.02)
        return True

    async def close(self) -> None:
        for writer in self.writers:
            writer.write(ws_frame(0x8, struct.pack("!H", 1000)))
            writer.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def measure(url: str, project_id: int, n: int, round_no: int, cookies: list[str]) -> dict:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--committer",
        f"{project_id}:{round_no}",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    rss_before = daphne_rss_kib()
    clients = Clients(url, project_id, n, await asyncio.to_thread(latest_event_id), cookies)
    await clients.connect()
    await asyncio.sleep(2)  # idle: what an open page costs, settled
    rss_idle = daphne_rss_kib()
    sockets = daphne_sockets()
    if (await child.stdout.readline()).strip() != b"ready":
        raise RuntimeError("the committer process did not start")
    cpu_before = web_cpu_seconds()
    client_cpu_before = time.process_time()
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    stamps = {int(k): v for k, v in json.loads(await child.stdout.readline()).items()}
    await child.wait()
    await clients.wait(
        lambda: all(len(r) >= len(stamps) for r in clients.received), 60, "every update"
    )
    web_cpu_ms = (web_cpu_seconds() - cpu_before) * 1000
    # The clients' own process: if it is busy for most of the burst, it is what is measured.
    client_cpu_s = time.process_time() - client_cpu_before
    await clients.close()
    samples = [
        (got[event_id] - committed) * 1000
        for got in clients.received
        for event_id, committed in stamps.items()
        if event_id in got
    ]
    expected = len(stamps) * n
    if os.environ.get("LIVE_BENCH_DUMP"):
        Path(os.environ["LIVE_BENCH_DUMP"] + f"-{n}.json").write_text(
            json.dumps({"stamps": stamps, "received": clients.received})
        )
    grown = sum(rss_idle.values()) - sum(rss_before.values())
    return {
        "clients": n,
        "events": len(stamps),
        "samples": len(samples),
        "missing": expected - len(samples),
        "p50_ms": round(percentile(samples, 50), 1),
        "p95_ms": round(percentile(samples, 95), 1),
        "max_ms": round(max(samples), 1) if samples else None,
        # From the burst's first commit to its last (the committer's own pace).
        "burst_ms": round((max(stamps.values()) - min(stamps.values())) * 1000, 1),
        "target_p95_ms": TARGETS_MS[n],
        # Messages a client got for the burst (coalescing: fewer than events).
        "messages_per_client": round(clients.messages / n, 1),
        "handshake_retries": clients.retries,
        # What the web processes spent on the burst, per update a client received.
        "web_cpu_ms_per_update": round(web_cpu_ms / max(1, len(samples)), 3),
        "client_cpu_s": round(client_cpu_s, 2),
        # Open sockets per daphne process while the clients were connected (spread).
        "sockets_per_process": list(sockets.values()),
        "rss_kib_before": sum(rss_before.values()),
        "rss_kib_idle": sum(rss_idle.values()),
        "rss_kib_per_connection": round(grown / n, 1),
    }


def row_ok(r: dict) -> bool:
    return r["missing"] == 0 and r["p95_ms"] < r["target_p95_ms"]


def table(rows: list[dict]) -> str:
    head = (
        "clients",
        "events",
        "msgs/client",
        "missing",
        "p50 ms",
        "p95 ms",
        "max ms",
        "web CPU ms/update",
        "sockets/process",
        "RSS KiB/conn",
        "target p95",
        "",
    )
    lines = [head]
    for r in rows:
        lines.append(
            tuple(
                str(v)
                for v in (
                    r["clients"],
                    r["events"],
                    r["messages_per_client"],
                    r["missing"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["max_ms"],
                    r["web_cpu_ms_per_update"],
                    "/".join(map(str, r["sockets_per_process"])),
                    r["rss_kib_per_connection"],
                    f"< {r['target_p95_ms']:.0f} ms",
                    "PASS" if row_ok(r) else "FAIL",
                )
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    out = ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, help="events per burst (default 50, quick 20)")
    parser.add_argument("--web-processes", type=int, default=2, help="daphne processes")
    parser.add_argument("--quick", action="store_true", help="a smaller burst")
    parser.add_argument(
        "--clients", default=",".join(map(str, CLIENT_COUNTS)), help="client counts to run"
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.add_argument("--committer", help=argparse.SUPPRESS)  # PROJECT:ROUND, internal
    args = parser.parse_args(argv)
    if args.committer:
        project_id, round_no = map(int, args.committer.split(":"))
        committer(project_id, round_no)
        return 0
    events = args.events or (20 if args.quick else 50)
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    if not set(counts) <= set(TARGETS_MS):
        parser.error(f"--clients: choose among {sorted(TARGETS_MS)}")
    fd_limit = raise_fd_limit()

    print(f"preparing database {DATABASE} …", file=sys.stderr)
    create_database(DATABASE)
    try:
        manage(DATABASE, "migrate", "--noinput", "-v0")
        setup_django()
        project, _ = make_project(events)
        cookies = maintainer_cookies(project)
        from django.db import connections

        connections.close_all()
        rows = []
        with web_servers(DATABASE, processes=args.web_processes, redis_db=REDIS_DB) as url:
            for round_no, n in enumerate(counts):
                print(f"burst of {events} events, {n} client(s) …", file=sys.stderr)
                rows.append(asyncio.run(measure(url, project.pk, n, round_no, cookies)))
        connections.close_all()
    finally:
        drop_database(DATABASE)
    print(f"\nLive pages: commit → websocket update ({args.web_processes} daphne processes, "
          f"Redis channel layer, loopback; load average {os.getloadavg()[0]:.1f})\n")  # fmt: skip
    print(table(rows))
    idle = max(rows, key=lambda r: r["clients"])
    print(
        f"\nMemory per idle connection: {idle['rss_kib_per_connection']} KiB "
        f"(daphne RSS {idle['rss_kib_before']} -> {idle['rss_kib_idle']} KiB with "
        f"{idle['clients']} pages open; open files limit {fd_limit})"
    )
    ok = all(row_ok(r) for r in rows)
    targets = [
        {
            "name": f"commit -> row update on {r['clients']} open list pages, p95",
            "value": r["p95_ms"],
            "unit": "ms",
            "target": f"< {r['target_p95_ms']:.0f}",
            "ok": row_ok(r),
            "note": f"p50 {r['p50_ms']} ms, {r['missing']} missing, "
            f"{r['messages_per_client']} messages a client for {r['events']} events",
        }
        for r in rows
        if r["clients"] > 1
    ]
    targets.append(
        {
            "name": "daphne memory per idle websocket connection",
            "value": idle["rss_kib_per_connection"],
            "unit": "KiB",
            "target": "reported",
            "ok": None,
            "note": f"RSS of the daphne processes with {idle['clients']} pages open, "
            f"sockets per process {idle['sockets_per_process']}",
        }
    )
    if args.json:
        print(
            json.dumps(
                {
                    "ok": ok,
                    "web_processes": args.web_processes,
                    "load_average": os.getloadavg()[0],
                    "rows": rows,
                    "targets": targets,
                }
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
