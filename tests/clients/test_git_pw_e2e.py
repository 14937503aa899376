"""git-pw, the real client, against a running daphne server with real mail ingested.

The server gets its own database (a temporary SQLite file, or a throw-away
PostgreSQL database when the suite runs on PostgreSQL), migrated and loaded by
the real commands (``migrate``, ``parsearchive``), and listens on a socket the
test binds to a free loopback port. git-pw then lists, shows, downloads,
applies (``git am`` into a real repository) and updates patches, series and
bundles through the REST API, as a maintainer would.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests.mails import GIT as GIT_MAILS
from tests.mails import git, make_base_repo
from tests.servers import manage, stop_process

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
GIT_PW = VENV_BIN / "git-pw"
REPLY = """\
From: Rae Viewer <rae@example.org>
To: frob@lists.example.org
Message-Id: <review.1@example.org>
In-Reply-To: <40382c694d3e3a5efd9973080834e5680642098c.v1.git.ada@example.org>
References: <40382c694d3e3a5efd9973080834e5680642098c.v1.git.ada@example.org>
Date: Sat, 2 Mar 2024 08:00:00 +0000
Subject: Re: [PATCH 1/3] frob: fix the frobnicator for negative input
List-Id: Frobnicator development <frob.lists.example.org>

Looks right.

Reviewed-by: Rae Viewer <rae@example.org>
"""


def _archive(path: Path) -> Path:
    """The v1 and v2 series and a review, as one mbox archive."""
    messages = [
        p.read_text()
        for scenario in ("v1", "v2")
        for p in sorted((GIT_MAILS / scenario).glob("*.eml"))
    ]
    messages.append(REPLY)
    with open(path, "w") as fh:
        for message in messages:
            fh.write("From mboxrd@z Thu Jan  1 00:00:00 1970\n")
            fh.write(message if message.endswith("\n") else message + "\n")
            fh.write("\n")
    return path


class Database:
    """A database of the server's own: a SQLite file, or a PostgreSQL database."""

    def __init__(self, tmp: Path):
        default = settings.DATABASES["default"]
        self.vendor = "postgresql" if "postgresql" in default["ENGINE"] else "sqlite"
        if self.vendor == "sqlite":
            self.url = f"sqlite:///{tmp / 'e2e.sqlite3'}"
            return
        import psycopg

        self.name = f"pw_e2e_{uuid.uuid4().hex[:12]}"
        self.params = {
            "host": default.get("HOST") or "127.0.0.1",
            "port": default.get("PORT") or 5432,
            "user": default.get("USER") or "postgres",
            "password": default.get("PASSWORD") or None,
        }
        with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        auth = self.params["user"] + (
            f":{self.params['password']}" if self.params["password"] else ""
        )
        self.url = f"postgres://{auth}@{self.params['host']}:{self.params['port']}/{self.name}"

    def drop(self) -> None:
        if self.vendor == "postgresql":
            import psycopg

            with psycopg.connect(dbname="postgres", autocommit=True, **self.params) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _manage(env: dict, *args: str) -> str:
    done = manage(env, *args, timeout=600)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, f"manage.py {args[0]} failed:\n{out}\n{err}"
    return out


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"daphne exited:\n{log.read_text()}"
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"daphne did not answer within 120s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    database = Database(tmp)
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "DEBUG": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "PATCHWORK_VAR_DIR": str(tmp),
    }
    process = None
    try:
        _manage(env, "migrate", "--noinput", "-v", "0")
        token = json.loads(
            _manage(env, "shell", "-c", "from tests.clients.git_pw_setup import setup; setup()")
            .strip()
            .splitlines()[-1]
        )["token"]
        _manage(env, "parsearchive", "--no-progress", str(_archive(tmp / "archive.mbox")))

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        log = tmp / "daphne.log"
        with open(log, "w") as out:
            process = subprocess.Popen(
                [str(VENV_BIN / "daphne"), "--fd", str(sock.fileno()), "config.asgi:application"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=[sock.fileno()],
            )
        sock.close()
        base = f"http://127.0.0.1:{port}"
        _wait_until_serving(f"{base}/api/", process, log)
        yield {"base": base, "api": f"{base}/api/1.4", "token": token, "env": env}
    finally:
        if process is not None:
            stop_process(process)
        database.drop()


@pytest.fixture
def gitpw(server, tmp_path):
    """Run git-pw as a maintainer (token auth) in a repository with the base tree."""
    repo = make_base_repo(tmp_path / "repo")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
        "PW_SERVER": server["api"],
        "PW_TOKEN": server["token"],
        "PW_PROJECT": "frob",
        "LC_ALL": "C.UTF-8",
    }

    def run(*args: str, cwd: Path = repo, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(GIT_PW), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert done.returncode == 0, f"git-pw {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    run.repo = repo
    return run


def rows(output: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(output)) if row][1:]


def props(output: str) -> dict[str, list[str]]:
    """git-pw's "show" table in csv: property → values (continuation rows have no name)."""
    found: dict[str, list[str]] = {}
    last = None
    for name, value in rows(output):
        last = name or last
        found.setdefault(last, []).append(value)
    return found


def api_get(server, path: str, **params):
    import httpx

    response = httpx.get(
        f"{server['api']}/{path}",
        params=params,
        headers={"Authorization": f"Token {server['token']}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def patch_ids(server) -> dict[str, int]:
    return {p["name"]: p["id"] for p in api_get(server, "patches/", per_page=100)}


def commits(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%s", "HEAD").stdout.splitlines()


# --- patches -----------------------------------------------------------------------------


def test_patch_list_and_show(server, gitpw):
    listed = rows(gitpw("patch", "list", "-f", "csv").stdout)
    names = {row[2] for row in listed}
    assert "[1/3] frob: fix the frobnicator for negative input" in names
    assert "[v2,2/2] docs: rename old.txt" in names
    assert {row[3] for row in listed} == {"Ada Lovelace (ada@example.org)"}
    by_email = rows(gitpw("patch", "list", "-f", "csv", "--submitter", "ada@example.org").stdout)
    assert len(by_email) == len(listed) == 5

    pid = patch_ids(server)["[1/3] frob: fix the frobnicator for negative input"]
    shown = props(gitpw("patch", "show", "-f", "csv", str(pid)).stdout)
    assert shown["ID"] == [str(pid)]
    assert shown["Submitter"] == ["Ada Lovelace (ada@example.org)"]
    assert shown["URL"][0].startswith(f"{server['base']}/project/frob/patch/40382c69")
    assert shown["Project"] == ["Frobnicator"]
    assert shown["Series"][0].endswith("Fix the frobnicator and tidy the docs")


def test_patch_download_mbox_and_diff(server, gitpw, tmp_path):
    pid = patch_ids(server)["[1/3] frob: fix the frobnicator for negative input"]
    out = tmp_path / "out"
    out.mkdir()
    gitpw("patch", "download", str(pid), str(out))
    mbox = out / "1-3-frob-fix-the-frobnicator-for-negative-input.patch"
    text = mbox.read_text()
    assert text.startswith("From patchwork ")
    assert "Subject: [PATCH 1/3] frob: fix the frobnicator for negative input" in text
    # The review's trailer is in the commit message.
    assert "Signed-off-by: Ada Lovelace <ada@example.org>\nReviewed-by: Rae Viewer" in text
    gitpw("patch", "download", "--diff", str(pid), str(out))
    diff = (out / "1-3-frob-fix-the-frobnicator-for-negative-input.diff").read_text()
    assert diff.startswith("diff --git a/src/frob.c b/src/frob.c")
    # (``--diff ID -`` is not tried: git-pw writes it to fd 0, which only works on a tty.)
    shown = api_get(server, f"patches/{pid}/")
    assert shown["diff"] == diff


def test_patch_apply_brings_its_series_dependencies(server, gitpw):
    pid = patch_ids(server)["[3/3] docs: add a logo, an empty file and a file without newline"]
    gitpw("patch", "apply", str(pid))
    assert commits(gitpw.repo)[:3] == [
        "docs: add a logo, an empty file and a file without newline",
        "docs: rename old.txt, drop gone.txt, make frob.c executable",
        "frob: fix the frobnicator for negative input",
    ]
    assert (gitpw.repo / "docs/logo.png").read_bytes().startswith(b"\x89PNG")
    message = git(gitpw.repo, "log", "-1", "--format=%B", "HEAD~2").stdout
    assert "Reviewed-by: Rae Viewer <rae@example.org>" in message


def test_patch_apply_without_dependencies(server, gitpw):
    pid = patch_ids(server)["[1/3] frob: fix the frobnicator for negative input"]
    gitpw("patch", "apply", "--no-deps", str(pid))
    assert commits(gitpw.repo) == ["frob: fix the frobnicator for negative input", "initial import"]


def test_patch_update(server, gitpw):
    pid = patch_ids(server)["[v2,1/2] frob: fix the frobnicator for negative input"]
    shown = props(
        gitpw(
            "patch",
            "update",
            "--state",
            "under-review",
            "--delegate",
            "maintainer",
            "--commit-ref",
            "abc123",
            "--archived",
            "true",
            "-f",
            "csv",
            str(pid),
        ).stdout
    )
    assert shown["State"] == ["under-review"]
    assert shown["Delegate"] == ["maintainer"]
    assert shown["Archived"] == ["True"]
    assert shown["Commit Ref"] == ["abc123"]
    patch = api_get(server, f"patches/{pid}/")
    assert (patch["state"], patch["archived"], patch["delegate"]["username"]) == (
        "under-review",
        True,
        "maintainer",
    )
    events = api_get(server, "events/", patch=pid, category="patch-state-changed")
    assert [(e["actor"]["username"], e["payload"]["current_state"]) for e in events] == [
        ("maintainer", "under-review")
    ]
    # Archived patches drop out of the default list.
    listed = {row[0] for row in rows(gitpw("patch", "list", "-f", "csv").stdout)}
    assert str(pid) not in listed


# --- series --------------------------------------------------------------------------------


def series_ids(server) -> dict[int, int]:
    return {s["version"]: s["id"] for s in api_get(server, "series/")}


def test_series_list_show_and_download(server, gitpw, tmp_path):
    listed = rows(gitpw("series", "list", "-f", "csv").stdout)
    assert len(listed) == 2
    v1 = series_ids(server)[1]
    shown = props(gitpw("series", "show", "-f", "csv", str(v1)).stdout)
    assert shown["Name"] == ["Fix the frobnicator and tidy the docs"]
    assert shown["Cover"][0].endswith("Fix the frobnicator and tidy the docs")
    assert len(shown["Patches"]) == 3
    out = tmp_path / "out"
    out.mkdir()
    gitpw("series", "download", str(v1), str(out))
    [mbox] = out.iterdir()
    assert mbox.name == "Fix-the-frobnicator-and-tidy-the-docs.patch"
    assert mbox.read_text().count("From patchwork ") == 3
    gitpw("series", "download", "--separate", str(v1), str(out))
    assert len(list(out.iterdir())) == 4


def test_series_apply(server, gitpw, tmp_path):
    ids = series_ids(server)
    gitpw("series", "apply", str(ids[1]))
    assert len(commits(gitpw.repo)) == 4
    assert not (gitpw.repo / "docs/gone.txt").exists()
    other = make_base_repo(tmp_path / "other")
    gitpw("series", "apply", str(ids[2]), cwd=other)
    assert commits(other) == [
        "docs: rename old.txt",
        "frob: fix the frobnicator for negative input",
        "initial import",
    ]
    assert "return -x;" in (other / "src/frob.c").read_text()


# --- bundles -------------------------------------------------------------------------------------


def test_bundle_lifecycle(server, gitpw, tmp_path):
    ids = patch_ids(server)
    first = ids["[1/3] frob: fix the frobnicator for negative input"]
    second = ids["[2/3] docs: rename old.txt, drop gone.txt, make frob.c executable"]
    created = props(
        gitpw("bundle", "create", "-f", "csv", "--private", "fixes", str(first), str(second)).stdout
    )
    bundle_id = created["ID"][0]
    assert created["Public"] == ["False"]
    assert created["URL"] == [f"{server['base']}/bundle/maintainer/fixes/"]
    assert len(created["Patches"]) == 2

    listed = rows(gitpw("bundle", "list", "-f", "csv").stdout)
    assert [row[1:] for row in listed] == [["fixes", "maintainer", "no"]]
    shown = props(gitpw("bundle", "show", "-f", "csv", "fixes").stdout)
    assert shown["ID"] == [bundle_id]

    # A private bundle downloads with the owner's token.
    out = tmp_path / "out"
    out.mkdir()
    gitpw("bundle", "download", bundle_id, str(out))
    [mbox] = out.iterdir()
    assert mbox.name == f"bundle-{bundle_id}-fixes.mbox"
    assert mbox.read_text().count("From patchwork ") == 2

    gitpw("bundle", "apply", bundle_id)
    assert commits(gitpw.repo)[:2] == [
        "docs: rename old.txt, drop gone.txt, make frob.c executable",
        "frob: fix the frobnicator for negative input",
    ]

    updated = props(
        gitpw(
            "bundle",
            "update",
            "-f",
            "csv",
            "--name",
            "fixes-v2",
            "--public",
            "--patch",
            str(first),
            bundle_id,
        ).stdout
    )
    assert updated["Name"] == ["fixes-v2"] and updated["Public"] == ["True"]
    assert len(updated["Patches"]) == 1
    bundle = api_get(server, f"bundles/{bundle_id}/")
    assert bundle["public"] is True and [p["id"] for p in bundle["patches"]] == [first]

    gitpw("bundle", "delete", bundle_id)
    assert rows(gitpw("bundle", "list", "-f", "csv").stdout) == []


def test_git_pw_reports_errors_from_the_api(server, gitpw):
    done = gitpw("patch", "show", "999999", ok=False)
    assert done.returncode != 0
    assert "Resource not found" in done.stderr
    if shutil.which("git") is None:  # pragma: no cover - git is a test requirement
        pytest.skip("git is not installed")
