"""The webhook receiver of the soak run: on 127.0.0.1, records every request, can fail."""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers 200, or while `failing` alternately 503 and a dropped connection."""

    def __init__(self) -> None:
        self.failing = False
        self.accepted: Counter[str] = Counter()  # webhook-id -> times answered 200
        self.refused = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.receiver = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, message_id: str) -> int:
        """The status to answer (0: drop the connection)."""
        with self._lock:
            if self.failing:
                self.refused += 1
                return 503 if self.refused % 2 else 0
            self.accepted[message_id] += 1
            return 200


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status = self.server.receiver.handle(self.headers.get("webhook-id", ""))
        if status == 0:
            self.close_connection = True
            return
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args) -> None:
        pass
