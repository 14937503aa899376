"""Management commands in the embedded default print what they did, and nothing else.

No spyne banner ("INFO spyne.application Initializing application …") on every
command, no kombu "No hostname was supplied" warning for every task an eager
command sends, no celery "Task … succeeded" line in the middle of parsemail's answer.
"""

from __future__ import annotations

import pytest

from tests.demo_server import embedded_env, manage
from tests.servers import ROOT

MAIL = ROOT / "tests" / "data" / "mail" / "git" / "single"


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
