"""A fresh clone's first `./dev serve`, as the README's quick start has a newcomer run it.

The repository is cloned (its committed HEAD) into a temporary directory and the real
`./dev serve` runs there with the embedded defaults (no DATABASE_URL, no REDIS_URL):
it creates a fresh .venv, migrates, loads the demo and serves. The venv is new, as a
newcomer's is; pip's download/wheel cache (~/.cache/pip) is shared with this machine,
which keeps the install to about half a minute. The server is killed with its whole
process group and the clone removed afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.e2e

# A fresh venv installs every dependency: minutes on a slow machine (3.5 on a busy one).
START_TIMEOUT = 780


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def newcomer_env(port: int) -> dict[str, str]:
    """This environment minus every setting a newcomer would not have made."""
    dropped = ("DATABASE_", "REDIS_", "PATCHWORK_", "CELERY_", "DJANGO_", "PYTEST_", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.pop("DEBUG", None)
    env.pop("SECRET_KEY", None)
    # The test runner's venv must not be the python that makes the clone's venv.
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    env["PORT"] = str(port)
    return env


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def wait_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"./dev serve exited ({process.returncode}):\n{log.read_text()[-5000:]}")
        try:
            fetch(url)
            return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                pytest.fail(f"./dev serve did not answer in time:\n{log.read_text()[-5000:]}")
            time.sleep(1)


@pytest.fixture
def clone(tmp_path):
    path = tmp_path / "patchwork"
    git("clone", "--quiet", str(ROOT), str(path))
    git("checkout", "--quiet", git("rev-parse", "HEAD"), cwd=path)
    return path


@pytest.mark.timeout(START_TIMEOUT + 120)
def test_dev_serve_on_a_fresh_clone_shows_the_demo(clone, tmp_path):
    assert not (clone / ".venv").exists() and not (clone / "var").exists()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(clone / "dev"), "serve"],
            cwd=clone,
            env=newcomer_env(port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the cleanup ends all of it
        )
    try:
        wait_serving(f"{base}/", process, log)
        home = fetch(f"{base}/")
        assert "No projects yet" not in home
        assert 'href="/project/patchwork/' in home
        listing = fetch(f"{base}/project/patchwork/list/")
        for name in (
            "[v2,1/3] mboxstat: count the patches each sender posted",
            "[v2,3/3] docs: describe mboxstat",
            "[1/2] tests: a first test for the sender count",
        ):
            assert name in listing, name
        output = log.read_text()
        assert "triage by 'dave'" in output
        assert f"Patchwork is at {base}/" in output
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break  # the whole group is gone
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
