"""A small HTTP/1.1 load generator on asyncio streams (keep-alive, loopback only).

Written for the benchmark rather than taken off the shelf so that it costs the
server's two cores as little as possible: no HTTP library per request, just
bytes on a kept-alive connection, Content-Length and chunked bodies read whole.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.common import percentile


@dataclass
class Request:
    path: str
    method: str = "GET"
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    latencies: list[float]  # seconds
    seconds: float
    errors: int
    statuses: dict[int, int]
    bytes: int

    def summary(self) -> dict:
        ms = [x * 1000 for x in self.latencies]
        return {
            "requests": len(ms),
            "p50_ms": percentile(ms, 50),
            "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99),
            "rps": len(ms) / self.seconds if self.seconds else 0.0,
            "errors": self.errors,
            "statuses": self.statuses,
            "mean_bytes": self.bytes // max(1, len(ms)),
        }


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        lines = [
            f"{request.method} {request.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Connection: keep-alive",
            "Accept-Encoding: identity",
        ]
        lines += [f"{k}: {v}" for k, v in request.headers.items()]
        if request.body or request.method == "POST":
            lines.append(f"Content-Length: {len(request.body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + request.body)
        await self.writer.drain()
        return await self._response()

    async def _response(self) -> tuple[int, bytes]:
        reader = self.reader
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            await self.close()
        return status, body


async def _run(
    base: str,
    requests: list[Request],
    total: int,
    concurrency: int,
    warmup: int,
    max_seconds: float | None,
) -> Result:
    parts = urlsplit(base)
    host, port = parts.hostname, parts.port or 80
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    state = {"next": 0, "errors": 0, "bytes": 0, "deadline": math.inf}

    async def worker(measure: bool, limit: int) -> None:
        conn = Connection(host, port)
        try:
            while state["next"] < limit and time.perf_counter() < state["deadline"]:
                index = state["next"]
                state["next"] += 1
                request = requests[index % len(requests)]
                started = time.perf_counter()
                try:
                    status, body = await conn.send(request)
                except (ConnectionError, asyncio.IncompleteReadError, OSError):
                    state["errors"] += 1
                    await conn.close()
                    continue
                elapsed = time.perf_counter() - started
                if not measure:
                    continue
                statuses[status] = statuses.get(status, 0) + 1
                state["bytes"] += len(body)
                if status >= 400:
                    state["errors"] += 1
                latencies.append(elapsed)
        finally:
            await conn.close()

    if warmup:
        await asyncio.gather(*(worker(False, warmup) for _ in range(concurrency)))
    state["next"] = 0
    started = time.perf_counter()
    if max_seconds:
        state["deadline"] = started + max_seconds
    await asyncio.gather(*(worker(True, total) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return Result(latencies, seconds, state["errors"], statuses, state["bytes"])


def load(
    base: str,
    requests: list[Request],
    *,
    total: int,
    concurrency: int,
    warmup: int = 0,
    max_seconds: float | None = None,
) -> Result:
    """Send `total` requests (cycling through `requests`) from `concurrency` connections.

    With max_seconds, no request starts after that long: a pathologically slow
    endpoint is measured on fewer requests instead of stalling the whole run.
    """
    return asyncio.run(_run(base, requests, total, concurrency, warmup, max_seconds))


async def _one(base: str, request: Request) -> tuple[int, bytes]:
    parts = urlsplit(base)
    conn = Connection(parts.hostname, parts.port or 80)
    try:
        return await conn.send(request)
    finally:
        await conn.close()


def fetch(base: str, request: Request) -> tuple[int, bytes]:
    """One request, for checking what an endpoint answers."""
    return asyncio.run(_one(base, request))
