"""A real HTTP receiver for webhook tests, listening on 127.0.0.1 only.

Each request is recorded; the response comes from a script of statuses (then
the default), and a request can be held open until the test releases it.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """host: any 127.x.y.z address is this machine too, a different receiver host."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, keep_alive: bool = False) -> None:
        self.requests: list[Received] = []
        self.connections = 0
        self.in_flight = 0  # requests received and not yet answered
        self.most_in_flight = 0
        self.script: list[tuple[int, dict[str, str], bytes]] = []
        self.default: tuple[int, dict[str, str], bytes] = (200, {}, b"ok")
        self.hold = threading.Event()
        self.hold.set()  # set: answer at once
        self.held = threading.Event()
        self._cond = threading.Condition()
        # keep_alive: HTTP/1.1, the connection stays open between requests (else 1.0: closed).
        self._server = _Server((host, port), _KeepAliveHandler if keep_alive else _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}/hook"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.hold.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def respond(self, *statuses: int, headers: dict[str, str] | None = None, body=b"") -> None:
        """Answer the next requests with these statuses, then the default."""
        for status in statuses:
            self.script.append((status, headers or {}, body))

    def _record(self, request: Received) -> tuple[int, dict[str, str], bytes]:
        with self._cond:
            self.requests.append(request)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            reply = self.script.pop(0) if self.script else self.default
            self._cond.notify_all()
        return reply

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until at least count requests arrived; fail clearly if they don't."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"receiver got {len(self.requests)} requests, expected {count}"
                    )
                self._cond.wait(left)
            return list(self.requests)

    def _answered(self) -> None:
        with self._cond:
            self.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: Receiver

    def verify_request(self, request, client_address) -> bool:
        self.receiver.connections += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        receiver = self.server.receiver
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, reply = receiver._record(Received(self.path, headers, body))
        if not receiver.hold.is_set():
            receiver.held.set()
            receiver.hold.wait(60)
        try:
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except OSError:
            pass  # the client went away (timeout, killed worker)
        finally:
            receiver._answered()

    def log_message(self, format, *args) -> None:
        pass


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"


def free_port() -> int:
    """A port nobody listens on right now (for a receiver that is 'down')."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
