"""The MTA of the soak run: pipes every message of an archive into parsemail.

Run as ``python -m soak.feeder ARCHIVE RATE EVERY`` with the topology's
environment. Every message goes through the parsemail command; one in EVERY
through a real ``manage.py parsemail`` process reading the message on stdin (as
an MTA's pipe does), the others through the same command in this process (a
process start per message would take longer than the soak itself on two
cores). As an MTA does, exit status 75 (EX_TEMPFAIL) means "keep the message
and retry later"; any other non-zero status would bounce it: counted as lost.
Prints one JSON line per message.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import close_old_connections  # noqa: E402

from apps.mail.archive import iter_mbox  # noqa: E402
from apps.mail.management.commands.parsemail import Command  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EX_TEMPFAIL = 75
RETRY_DELAYS = [1, 2, 4, 8, 15, 30]  # an MTA queue, much compressed
MAX_TRIES = 40  # ~17 minutes of retries at most, then the message bounces


def via_process(raw: bytes) -> int:
    done = subprocess.run(
        [sys.executable, "manage.py", "parsemail"],
        cwd=ROOT,
        input=raw,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    return done.returncode


def in_process(raw: bytes, scratch: Path) -> int:
    close_old_connections()  # as a fresh MTA process would: no connection broken earlier
    scratch.write_bytes(raw)
    command = Command(stdout=io.StringIO(), stderr=io.StringIO())
    try:
        command.handle(infile=str(scratch), list_id="", sync=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception:  # a crash of the command: the MTA sees exit status 1
        traceback.print_exc()  # into feeder.log
        return 1
    return 0


def main(archive: str, rate: str, every: str) -> None:
    interval = 1.0 / float(rate)
    every_n = int(every)
    scratch = Path(tempfile.mkstemp(prefix="soak-mail-")[1])
    started = time.monotonic()
    try:
        for n, (raw, _) in enumerate(iter_mbox(Path(archive))):
            # Keep to the rate: faults must happen while mail is still arriving.
            delay = started + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            tries, codes = 0, []
            while True:
                tries += 1
                code = via_process(raw) if n % every_n == 0 else in_process(raw, scratch)
                codes.append(code)
                if code != EX_TEMPFAIL or tries >= MAX_TRIES:
                    break
                time.sleep(RETRY_DELAYS[min(tries, len(RETRY_DELAYS)) - 1])
            line = {"n": n, "codes": codes, "process": n % every_n == 0}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
    finally:
        scratch.unlink(missing_ok=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
