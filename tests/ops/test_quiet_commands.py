"""Management commands in the embedded default print what they did, and nothing else.

No spyne banner ("INFO spyne.application Initializing application …") on every
command, no kombu "No hostname was supplied" warning for every task an eager
command sends, no celery "Task … succeeded" line in the middle of parsemail's answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT

MAIL = ROOT / "tests" / "data" / "mail" / "git" / "single"


def embedded_env(var: Path) -> dict[str, str]:
    """A newcomer's environment: no services, a database of its own."""
    dropped = ("DATABASE_", "REDIS_", "PATCHWORK_", "CELERY_", "DJANGO_", "PYTEST_", "LOG_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(DEBUG="1", PATCHWORK_VAR_DIR=str(var))
    return env


def manage(env: dict[str, str], *args: str, stdin: bytes | None = None):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=300,
    )


def test_check_prints_only_its_verdict(tmp_path):
    done = manage(embedded_env(tmp_path), "check")
    assert done.returncode == 0
    assert done.stderr.decode() == ""
    assert done.stdout.decode() == "System check identified no issues (0 silenced).\n"


@pytest.mark.e2e
def test_parsemail_prints_only_its_outcome(tmp_path):
    env = embedded_env(tmp_path)
    assert manage(env, "migrate", "-v", "0").returncode == 0
    assert manage(env, "loaddemo", "--if-empty").returncode == 0
    mail = sorted(MAIL.glob("*.eml"))[0].read_bytes()
    done = manage(env, "parsemail", "--list-id=patchwork.lists.example.org", stdin=mail)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode() == ""
    [line] = done.stdout.decode().splitlines()
    assert line.startswith("parsed: patch ")
