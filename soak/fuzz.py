"""Longer fuzz runs than the test suite affords: hypothesis over parsing and ingestion, atheris.

    python -m soak.fuzz hypothesis EXAMPLES   (DATABASE_URL: a scratch database)
    python -m soak.fuzz atheris SECONDS       (parser only; needs the atheris package)

Each prints one JSON line: how many inputs ran and every escape found.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _escape(raw: bytes, exc: BaseException) -> dict:
    return {
        "input": raw[:300].decode("latin-1"),
        "error": "".join(traceback.format_exception_only(type(exc), exc)).strip()[:500],
    }


def run_hypothesis(examples: str) -> dict:
    import django

    django.setup()
    from hypothesis import HealthCheck, given, settings

    from apps.events.models import Event
    from apps.mail.intake import mail_store
    from apps.mail.models import IncomingMail
    from apps.mail.parse import MailParseError, parse_mail
    from apps.mail.services import mail_ingest
    from apps.patches.models import Cover, CoverComment, Patch, PatchComment
    from apps.projects.models import Project
    from apps.series.models import Series
    from tests.security.strategies import LIST_ID, any_mail

    Project.objects.get_or_create(
        linkname="fuzz", defaults={"name": "Fuzz", "listid": LIST_ID, "listemail": "f@example.org"}
    )
    models = [Patch, Cover, PatchComment, CoverComment, Series, Event]
    found = {"examples": 0, "escapes": [], "partial": [], "statuses": {}}

    def counts() -> list[int]:
        return [m.objects.count() for m in models]

    @settings(
        max_examples=int(examples),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(any_mail)
    def check(raw: bytes) -> None:
        found["examples"] += 1
        try:
            parse_mail(raw)
        except MailParseError:
            pass
        except Exception as exc:  # an escape: the parser must only raise MailParseError
            found["escapes"].append(_escape(raw, exc))
        before = counts()
        try:
            mail = mail_ingest(mail_store(raw))
        except Exception as exc:
            found["escapes"].append(_escape(raw, exc))
            return
        found["statuses"][mail.status] = found["statuses"].get(mail.status, 0) + 1
        after = counts()
        grew = [m.__name__ for m, a, b in zip(models, before, after, strict=True) if b != a]
        if mail.status in (IncomingMail.FAILED, IncomingMail.IGNORED) and grew:
            found["partial"].append({"input": raw[:300].decode("latin-1"), "grew": grew})

    started = time.monotonic()
    check()
    found["seconds"] = round(time.monotonic() - started, 1)
    return found


def run_atheris(seconds: str) -> dict:
    try:
        import atheris
    except ImportError:
        return {"skipped": "atheris is not installed (pip install -e '.[soak]')"}
    import subprocess

    # atheris exits the process when done: run it in a child and read its verdict.
    child = subprocess.run(
        [sys.executable, "-m", "soak.fuzz", "atheris-child", f"-max_total_time={seconds}"],
        capture_output=True,
        text=True,
        timeout=int(seconds) + 300,
    )
    del atheris
    runs = 0
    for line in child.stderr.splitlines():
        if line.startswith("Done ") and " runs " in line:
            runs = int(line.split()[1])
    crashed = child.returncode != 0
    return {
        "runs": runs,
        "seconds": int(seconds),
        "escapes": [{"error": child.stderr[-2000:]}] if crashed else [],
    }


def atheris_child(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports():
        from apps.mail.parse import MailParseError, parse_mail

    def one_input(data: bytes) -> None:
        try:
            parse_mail(data)
        except MailParseError:
            pass

    atheris.Setup([sys.argv[0], *argv], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "atheris-child":
        atheris_child(rest)
    else:
        result = run_hypothesis(*rest) if mode == "hypothesis" else run_atheris(*rest)
        sys.stdout.write(json.dumps(result) + "\n")
