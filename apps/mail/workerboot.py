"""The start of a parse worker process (apps/mail/parallel.py).

Its own module, importing nothing of the project: a worker imports it before Django
is set up, and the parser's modules need Django (their types import models).
"""

from __future__ import annotations

import os
import threading
import time

import django


def worker_start(writer: int) -> None:
    """Set Django up, and end this worker when the writer process is gone."""
    django.setup()
    threading.Thread(target=_follow, args=(writer,), daemon=True).start()


def _follow(writer: int) -> None:
    # A killed writer cannot shut its pool down: its workers would wait for work forever.
    while True:
        time.sleep(1)
        try:
            os.kill(writer, 0)
        except ProcessLookupError:
            os._exit(1)
