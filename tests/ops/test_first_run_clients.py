"""A newcomer's first git-pw and pwclient runs against the demo, set up as the pages say.

The demo is loaded by the real `loaddemo`, a real daphne serves it, and the
clients from the venv are configured by exactly what the project page shows (the
`git config` lines, the offered `.pwclientrc`).
"""

from __future__ import annotations

import configparser
import html
import os
import re
import subprocess
import sys
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.series.models import Series
from tests.servers import live

pytestmark = [live, pytest.mark.e2e]

BIN = Path(sys.executable).parent


@pytest.fixture
def demo(daphne):
    call_command("loaddemo", stdout=StringIO())
    return daphne()


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def client_env(home: Path) -> dict[str, str]:
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_PAGER="cat",
        PAGER="cat",
        LC_ALL="C.UTF-8",
        GIT_AUTHOR_NAME="New Comer",
        GIT_AUTHOR_EMAIL="new@example.org",
        GIT_COMMITTER_NAME="New Comer",
        GIT_COMMITTER_EMAIL="new@example.org",
        PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}",
    )
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


def shown_git_config(page: str) -> list[list[str]]:
    """The `git config pw.*` commands in the project page's git-pw box, as argv lists."""
    lines = re.findall(r"^git config (pw\.\w+) (\S+)", html.unescape(page), re.M)
    return [["git", "config", key, value] for key, value in lines if key != "pw.token"]


def test_git_pw_as_the_project_page_says_applies_the_demo_with_trailers(demo, tmp_path):
    page = fetch(f"{demo.url}/project/patchwork/")
    config = shown_git_config(page)
    assert [c[2] for c in config] == ["pw.server", "pw.project"]
    assert config[0][3] == f"{demo.url}/api/1.4"
    env = client_env(tmp_path / "home")
    repo = tmp_path / "scratch"
    repo.mkdir()
    run(["git", "init", "-q"], repo, env)
    run(["git", "commit", "-q", "--allow-empty", "-m", "start"], repo, env)
    for command in config:
        run(command, repo, env)

    v2 = Series.objects.get(version=2, project__linkname="patchwork")
    applied = run([str(BIN / "git-pw"), "series", "apply", str(v2.pk)], repo, env)
    assert "WARNING" not in applied.stderr and "version missing" not in applied.stderr, (
        applied.stderr
    )

    log = run(["git", "log", "--reverse", "--format=%B%x00"], repo, env).stdout
    messages = [m.strip() for m in log.split("\0") if m.strip()][1:]
    assert [m.splitlines()[0] for m in messages] == [
        "mboxstat: count the patches each sender posted",
        "mboxstat: leave replies out of the count",
        "docs: describe mboxstat",
    ]
    # The trailers sit in the commit message, not lost below a "---".
    trailers = messages[0].split("\n\n")[-1].splitlines()
    assert sorted(trailers) == [
        "Reviewed-by: Bob Builder <bob@example.org>",  # given on the cover letter
        "Signed-off-by: Ada Lovelace <ada@example.org>",
        "Tested-by: Erin Tester <erin@example.org>",
    ], messages[0]
    assert "Reviewed-by: Bob Builder <bob@example.org>" in messages[1]
    assert "Acked-by: Dave Maintainer <dave@example.org>" in messages[2]
    assert "Maintainers keep asking who sends the most patches" in messages[0]
    assert (repo / "mboxstat.py").exists() and (repo / "README.mboxstat").exists()


def test_pwclient_with_the_offered_pwclientrc_runs_the_commands_shown(demo, tmp_path):
    page = html.unescape(fetch(f"{demo.url}/project/patchwork/"))
    rc_path = re.search(r'href="(/project/patchwork/pwclientrc/)" download', page).group(1)
    rc = fetch(f"{demo.url}{rc_path}")
    parsed = configparser.ConfigParser()
    parsed.read_string(rc)
    backend = parsed.get("patchwork", "backend")
    # The pages name the API the file configures.
    api = {"rest": "REST", "xmlrpc": "XML-RPC"}[backend]
    assert f"updates patches over the {api} API" in page
    about = " ".join(html.unescape(fetch(f"{demo.url}/about/")).split())
    assert f"<code>pwclient</code> the {api} API, as the <code>.pwclientrc</code>" in about

    home = tmp_path / "home"
    env = client_env(home)
    (home / ".pwclientrc").write_text(rc)
    commands = re.findall(r"^(pwclient [^<\n]+)", page, re.M)
    assert commands == ["pwclient list -s New", "pwclient git-am PATCH-ID"]
    listed = run([str(BIN / "pwclient"), "list", "-s", "New"], home, env)
    assert listed.stderr == ""
    assert "[v2,1/3] mboxstat: count the patches each sender posted" in listed.stdout
    assert "contrib: bash completion" not in listed.stdout  # accepted, not New

    repo = tmp_path / "scratch"
    repo.mkdir()
    run(["git", "init", "-q"], repo, env)
    run(["git", "commit", "-q", "--allow-empty", "-m", "start"], repo, env)
    patch = Series.objects.get(version=2).patches.order_by("number").first()
    applied = run([str(BIN / "pwclient"), "git-am", str(patch.pk)], repo, env)
    assert "Traceback" not in applied.stderr
    message = run(["git", "log", "-1", "--format=%B"], repo, env).stdout
    assert "Tested-by: Erin Tester <erin@example.org>" in message
