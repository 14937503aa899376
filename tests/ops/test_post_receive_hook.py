"""tools/post-receive.hook end to end: a real git push to a repository with the hook installed
marks the ingested patch of each pushed commit, through the REST API of a running server."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.accounts.services import api_token_regenerate
from apps.mail.parse.hashing import hash_diff
from apps.patches.models import Patch
from tests.factories import make_project, make_user
from tests.ops.conftest import ROOT, live

HOOK_PATH = ROOT / "tools" / "post-receive.hook"

pytestmark = pytest.mark.skipif(not shutil.which("git"), reason="git is not installed")


def load_hook():
    """The hook imported as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("post_receive_hook", str(HOOK_PATH))
    spec = importlib.util.spec_from_loader("post_receive_hook", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


HOOK = load_hook()

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Sam Submitter",
    "GIT_AUTHOR_EMAIL": "sam@example.com",
    "GIT_COMMITTER_NAME": "Mae Maintainer",
    "GIT_COMMITTER_EMAIL": "mae@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class Repos:
    """A bare 'server' repository with the hook installed, and a clone to work in."""

    def __init__(self, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "PW_DRY_RUN"
        }
        self.env.update(GIT_ENV, HOME=str(root))
        self.server = root / "server.git"
        self.work = root / "work"
        self.git("init", "--bare", "-q", "-b", "main", str(self.server), cwd=root)
        hook = self.server / "hooks" / "post-receive"
        shutil.copy(HOOK_PATH, hook)
        hook.chmod(0o755)
        self.git("clone", "-q", str(self.server), str(self.work), cwd=root)
        self.git("checkout", "-q", "-b", "main")
        self.commit("README", "hello\nbye\n", "Initial commit")
        self.push("main")  # not configured yet: the hook only complains

    def git(self, *args: str, cwd: Path | None = None, check: bool = True):
        return subprocess.run(
            ["git", *args],
            cwd=cwd or self.work,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def configure(self, **values: str) -> None:
        for key, value in values.items():
            self.git("config", f"patchwork.{key}", value, cwd=self.server)

    def commit(self, path: str, content: str, subject: str) -> str:
        file = self.work / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(content)
        self.git("add", path)
        message = f"{subject}\n\nSigned-off-by: Sam Submitter <sam@example.com>"
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    def mail_for(self, commit: str, listid: str) -> bytes:
        """The commit as git format-patch mails it to the list."""
        mail = self.git("format-patch", "-1", "--stdout", commit).stdout
        envelope, rest = mail.split("\n", 1)
        headers = f"Message-Id: <{commit}@example.com>\nList-Id: <{listid}>\n"
        return (envelope + "\n" + headers + rest).encode()

    def push(self, *refspecs: str) -> str:
        """git push; returns what the hook said (git shows it prefixed with 'remote: ')."""
        result = self.git("push", "-q", "origin", *refspecs)
        return "\n".join(
            line.removeprefix("remote: ").rstrip()
            for line in result.stderr.splitlines()
            if line.startswith("remote: ")
        )


def ingest(mail: bytes, tmp_path: Path, name: str) -> None:
    """Feed the mail to manage.py parsemail --sync, as an administrator would."""
    path = tmp_path / f"{name}.eml"
    path.write_bytes(mail)
    out = io.StringIO()
    try:
        call_command("parsemail", "--sync", str(path), stdout=out)
    except SystemExit as exc:  # parsemail exits with the status an MTA expects
        assert exc.code in (0, None), out.getvalue()
    assert out.getvalue().startswith("parsed: patch"), out.getvalue()


@pytest.fixture
def setup(tmp_path, daphne, maintainer):
    project = make_project("hooked", maintainers=[maintainer], listid="hooked.lists.example.com")
    token = api_token_regenerate(user=maintainer)
    server = daphne()
    repos = Repos(tmp_path / "git")
    repos.configure(url=server.url, project=project.linkname, token=token)
    return project, repos


@live
def test_pushed_commit_marks_its_patch_accepted_with_the_commit_id(setup, tmp_path):
    project, repos = setup
    commit = repos.commit("README", "hello\nworld\nbye\n", "README: greet the world")
    ingest(repos.mail_for(commit, project.listid), tmp_path, "p1")
    patch = Patch.objects.get(project=project)
    assert patch.state.slug == "new" and patch.commit_ref is None

    said = repos.push("main")

    patch.refresh_from_db()
    assert patch.state.slug == "accepted"
    assert patch.commit_ref == commit
    assert f"{commit[:12]} -> patch {patch.pk} 'README: greet the world'" in said
    assert f"state new -> accepted, commit_ref {commit}" in said


@live
def test_branch_map_dry_run_unknown_commits_and_new_branches(setup, tmp_path):
    project, repos = setup
    repos.configure(defaultstate="-")
    repos.git("config", "--add", "patchwork.statemap", "next=under-review", cwd=repos.server)
    repos.git("config", "--add", "patchwork.statemap", "refs/heads/main=accepted", cwd=repos.server)
    repos.git("checkout", "-q", "-b", "next")
    first = repos.commit("a.txt", "a\n", "Add a")
    second = repos.commit("b.txt", "b\n", "Add b")
    unmailed = repos.commit("c.txt", "c\n", "Add c, never mailed")
    for commit in (first, second):
        ingest(repos.mail_for(commit, project.listid), tmp_path, commit)
    a, b = Patch.objects.filter(project=project).order_by("name")

    # Dry run: the look-ups happen, nothing changes.
    repos.configure(dryrun="true")
    said = repos.push("next")
    assert "dry run: nothing will be changed" in said
    assert f"patch {a.pk} 'Add a': would set state new -> under-review" in said
    a.refresh_from_db()
    assert a.state.slug == "new" and a.commit_ref is None

    # A new branch brings only its own commits; "next" maps to Under Review.
    repos.git("push", "-q", "origin", "--delete", "next")
    repos.configure(dryrun="false")
    said = repos.push("next")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.state.slug, a.commit_ref) == ("under-review", first)
    assert (b.state.slug, b.commit_ref) == ("under-review", second)
    assert f"{unmailed[:12]} 'Add c, never mailed': no patch with hash" in said
    assert "Initial commit" not in said

    # A branch the map leaves out (and the default ignores) changes nothing.
    repos.git("checkout", "-q", "-b", "wip")
    repos.commit("d.txt", "d\n", "Add d")
    assert "refs/heads/wip: ignored" in repos.push("wip")

    # Merging into main accepts them.
    repos.git("checkout", "-q", "main")
    repos.git("merge", "-q", "--ff-only", "next")
    said = repos.push("main")
    a.refresh_from_db()
    assert (a.state.slug, a.commit_ref) == ("accepted", first)
    assert f"patch {b.pk} 'Add b': state under-review -> accepted" in said


@live
def test_tokens_that_may_not_change_the_patch_change_nothing(setup, tmp_path):
    project, repos = setup
    repos.configure(token="not-a-valid-token", logfile=str(tmp_path / "hook.log"))
    commit = repos.commit("README", "hello\nthere\nbye\n", "README: say hello there")
    ingest(repos.mail_for(commit, project.listid), tmp_path, "p1")

    said = repos.push("main")

    patch = Patch.objects.get(project=project)
    assert patch.state.slug == "new" and patch.commit_ref is None
    assert 'HTTP 403 {"detail":"Invalid token."}' in said
    assert "Invalid token" in (tmp_path / "hook.log").read_text()

    # A valid token of somebody who is not a maintainer of the project.
    repos.configure(token=api_token_regenerate(user=make_user("outsider")))
    commit = repos.commit("README", "hello\nyou\nbye\n", "README: say hello to you")
    ingest(repos.mail_for(commit, project.listid), tmp_path, "p2")

    said = repos.push("main")

    assert not Patch.objects.filter(project=project).exclude(state__slug="new").exists()
    assert "HTTP 403" in said


def test_missing_configuration_is_reported(tmp_path):
    repos = Repos(tmp_path)
    commit = repos.commit("x", "x\n", "x")

    said = repos.push("main")

    assert "not updating patches: git config patchwork.url is not set" in said
    assert "git config patchwork.token is not set" in said
    assert commit[:12] not in said


def test_bad_state_map_entry_is_refused(tmp_path):
    repos = Repos(tmp_path)
    repos.configure(url="http://127.0.0.1:9", project="p", token="t", statemap="next")
    repos.commit("x", "x\n", "x")

    said = repos.push("main")

    assert "patchwork.statemap 'next': expected BRANCH=STATE" in said


def test_hook_hash_matches_the_parser_and_pwhash_on_git_diffs(tmp_path, monkeypatch):
    repos = Repos(tmp_path)
    commits = [
        repos.commit("src/frob.c", "int frob(void)\n{\n\treturn 1;\n}\n", "Add frob"),
        repos.commit("src/frob.c", "int frob(void)\n{\n\treturn 2;\n}\n", "Change frob"),
        repos.commit("docs/ünïcode.txt", "naïve café\n", "Add a UTF-8 file"),
    ]
    monkeypatch.chdir(repos.work)
    for commit in commits:
        diff = HOOK.commit_diff(commit)
        pwhash = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "pwhash")],
            input=diff.encode("utf-8", "surrogateescape"),
            capture_output=True,
            check=True,
        ).stdout.decode()
        assert HOOK.hash_diff(diff) == hash_diff(diff) == pwhash.strip()


LINES = ["+a\n", "-b\n", " c\n", "--- x/y\n", "+++ z/w\n", "@@ -1,2 +3 @@\n", "\r\n", "\\ x\n"]


@given(st.lists(st.sampled_from(LINES), max_size=40))
@hypothesis_settings(max_examples=200, deadline=None)
def test_hook_hash_is_the_patchwork_hash(lines):
    diff = "".join(lines)
    assert HOOK.hash_diff(diff) == hash_diff(diff)
