"""What one request costs the Django process, measured so that a busy machine does not blur it.

Wall times on a shared machine move by ±30 % run to run; these figures do not:

- ``calls``: Python function calls of one request (cProfile), and the functions that
  make most of them; deterministic for the same code and data.
- ``callgrind``: instructions the process executes per request of each kind, under
  ``valgrind --tool=callgrind``: one run, start-up and warm-up first, then N requests of
  each kind with a counter dump between kinds; deterministic to about a percent.
- ``time``: CPU and wall time per request, for interleaved A/B runs of two trees.
- ``profile``: a cProfile listing of N requests, and the SQL each sends with its time.

Requests go through Django's whole handler (every middleware, the session, the
response), the WSGI handler called in-process, or with ``--asgi`` the ASGI application
daphne serves (config.asgi: the handler's thread hops and signals included, daphne's
own HTTP work not) on one event loop; the settings are the benchmarks'
(bench.common.bench_env: DEBUG off). Run from the tree to measure, so the same
script measures an older tree too:

    DATABASE_URL=... python -m bench.request_cost time /project/linux/list/ ...
    python bench/request_cost.py callgrind --database pw_x --requests 3 /project/linux/list/
    python bench/request_cost.py calls --database pw_x @requests.json  # [{"path", "name",
                                                   #   "method", "body"}, ...]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]


def _environ(path: str, method: str = "GET", body: bytes = b"") -> dict:
    parts = urlsplit(path)
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "text/xml" if body else "",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if ASGI:
        from config.asgi import application

        return application
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    return WSGIHandler()


ASGI = False  # --asgi: requests through config.asgi.application (main() sets it)
_loop = None


def _scope(path: str, method: str, body: bytes) -> dict:
    parts = urlsplit(path)
    headers = [(b"host", b"127.0.0.1:8000")]
    if body:
        headers += [(b"content-type", b"text/xml"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(parts.path),
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


def _request_asgi(application, item: dict) -> int:
    import asyncio

    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    body = item.get("body", "").encode()
    statuses = []

    async def run() -> None:
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict:
            if messages:
                return messages.pop()
            await asyncio.Future()  # the client stays: the handler cancels this wait
            return {}

        async def send(message: dict) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        scope = _scope(item["path"], item.get("method", "GET"), body)
        await application(scope, receive, send)

    _loop.run_until_complete(run())
    return statuses[0]


def _request(handler, item: dict) -> int:
    if ASGI:
        return _request_asgi(handler, item)
    statuses = []
    body = item.get("body", "").encode()
    response = handler(
        _environ(item["path"], item.get("method", "GET"), body),
        lambda status, headers, exc_info=None: statuses.append(status),
    )
    try:
        for _chunk in response:
            pass
    finally:
        close = getattr(response, "close", None)
        if close:
            close()
    return int(statuses[0].split()[0])


def _items(paths: list[str]) -> list[dict]:
    out = []
    for p in paths:
        if p.startswith("@"):  # a JSON file: [{"path":..., "method":..., "body":...}]
            out += json.loads(Path(p[1:]).read_text())
        else:
            out.append({"path": p})
    return out


def _warm(handler, items: list[dict], rounds: int = 3) -> None:
    for _ in range(rounds):
        for item in items:
            status = _request(handler, item)
            if status != 200:
                raise SystemExit(f"{item['path']}: status {status}")


def cmd_time(args) -> None:
    handler = _setup()
    items = _items(args.paths)
    _warm(handler, items)
    out = {}
    for item in items:
        cpu, wall = [], []
        for _ in range(args.requests):
            c0, w0 = time.process_time(), time.perf_counter()
            _request(handler, item)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
        out[item.get("name", item["path"])] = {
            "cpu_ms": statistics.median(cpu),
            "wall_ms": statistics.median(wall),
        }
    print(json.dumps(out))


def cmd_calls(args) -> None:
    handler = _setup()
    items = _items(args.paths)
    _warm(handler, items)
    out = {}
    for item in items:
        prof = cProfile.Profile()
        prof.enable()
        _request(handler, item)
        prof.disable()
        stats = pstats.Stats(prof)
        top = sorted(stats.stats.items(), key=lambda kv: -kv[1][1])[: args.top]  # type: ignore[attr-defined]
        out[item.get("name", item["path"])] = {
            "calls": stats.total_calls,  # type: ignore[attr-defined]
            "primitive": stats.prim_calls,  # type: ignore[attr-defined]
            "top": [[f"{f[0].split('site-packages/')[-1]}:{f[1]}:{f[2]}", v[1]] for f, v in top],
        }
    print(json.dumps(out))


def cmd_profile(args) -> None:
    handler = _setup()
    items = _items(args.paths)
    _warm(handler, items)
    from django.db import connection

    queries: list[tuple[float, str]] = []

    def timed(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - t0) * 1000, sql))

    prof = cProfile.Profile()
    with connection.execute_wrapper(timed):
        prof.enable()
        for _ in range(args.requests):
            for item in items:
                _request(handler, item)
        prof.disable()
    n = args.requests * len(items)
    print(f"{len(queries) / n:.1f} queries a request, {sum(q for q, _ in queries) / n:.2f} ms")
    per_sql: dict[str, list[float]] = {}
    for ms, sql in queries:
        per_sql.setdefault(re.sub(r"\s+", " ", sql)[:150], []).append(ms)
    for sql, times in sorted(per_sql.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {len(times) / n:4.1f}x {statistics.median(times):6.2f} ms  {sql}")
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats(args.sort).print_stats(args.top)


def cmd_callgrind(args) -> None:
    """One run under callgrind: warm up, then N of each request, a counter dump between
    requests (callgrind's --dump-before on os.getppid, which nothing else calls), so each
    segment's total is one request kind's instructions."""
    items = _items(args.paths)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--dump-before=os_getppid",
            sys.executable,
            str(Path(__file__).resolve()),
            "serve-n",
            *(["--asgi"] if args.asgi else []),
            "--requests",
            str(args.requests),
            *args.paths,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr[-3000:])
        totals = {}
        for dump in Path(tmp).glob("cg.out.*"):
            match = re.search(r"^totals: (\d+)", dump.read_text(), re.M)
            totals[int(dump.suffix[1:])] = int(match.group(1)) if match else 0
    # Dump 1 ends the start-up and warm-up; dump i + 2 ends item i's requests.
    result = {}
    for i, item in enumerate(items):
        result[item.get("name", item["path"])] = totals[i + 2] / args.requests
    print(json.dumps({"instructions_per_request": result}))


def cmd_serve_n(args) -> None:
    """Warm up, then N of each request, os.getppid() before each kind and at the end (the
    points where callgrind dumps its counters: cmd_callgrind)."""
    handler = _setup()
    items = _items(args.paths)
    _warm(handler, items, rounds=2)
    for item in items:
        os.getppid()
        for _ in range(args.requests):
            _request(handler, item)
    os.getppid()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["time", "calls", "profile", "callgrind", "serve-n"])
    parser.add_argument("paths", nargs="+", help="URL paths, or @file.json of requests")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", help="a database name on BENCH_PG (else DATABASE_URL)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--asgi", action="store_true", help="through config.asgi, not WSGI")
    args = parser.parse_args(argv)
    global ASGI
    ASGI = args.asgi
    if args.database:
        sys.path.insert(0, str(ROOT))
        from bench.common import bench_env

        os.environ.update(bench_env(args.database, ALLOWED_HOSTS="127.0.0.1,localhost"))
        # As bench.common.web_servers runs the web processes: a connection pool.
        os.environ.setdefault("DATABASE_POOL_SIZE", "8")
    modes = {
        "time": cmd_time,
        "calls": cmd_calls,
        "profile": cmd_profile,
        "callgrind": cmd_callgrind,
        "serve-n": cmd_serve_n,
    }
    modes[args.mode](args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
