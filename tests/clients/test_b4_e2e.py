"""b4, the real client from PyPI, against a running server: ``b4 am`` and ``b4 shazam`` take a
series from a Patchwork-hosted thread (b4.midmask), and ``b4 am`` / ``b4 ty`` set patch states
through the REST API (pw-url, pw-key, pw-project, pw-*-state), with the git config the project
page shows.

The server (its own database, archive loaded by parsearchive, daphne) is git-pw's end-to-end
fixture: v1 of a 3-patch series with a Reviewed-by reply to patch 1, and v2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.test_git_pw_e2e import api_get, commits, server  # noqa: F401
from tests.mails import git, make_base_repo

pytestmark = pytest.mark.e2e

B4 = Path(sys.executable).parent / "b4"
V1_PATCH_1 = "40382c694d3e3a5efd9973080834e5680642098c.v1.git.ada@example.org"
V1_COVER = "cover.v1.git.ada@example.org"
V2_COVER = "cover.v2.git.ada@example.org"
V2_PATCH_2 = "5f6de97e8f0fbf454f4c81f01e02a82b4c5809a7.v2.git.ada@example.org"


def b4_config(base: str, token: str) -> dict[str, str]:
    """The b4 lines of git config, as the project page shows them."""
    return {
        "b4.midmask": f"{base}/project/frob/thread/%s",
        "b4.linkmask": f"{base}/project/frob/thread/%s/",
        "b4.pw-url": f"{base}/",
        "b4.pw-key": token,
        "b4.pw-project": "frob",
        "b4.pw-review-state": "under-review",
        "b4.pw-accept-state": "accepted",
        "b4.pw-discard-state": "rejected",
    }


@pytest.fixture
def b4(server, tmp_path):  # noqa: F811
    repo = make_base_repo(tmp_path / "repo")
    for name, value in b4_config(server["base"], server["token"]).items():
        git(repo, "config", name, value)
    git(repo, "config", "user.email", "mae@example.org")
    git(repo, "config", "user.name", "Mae Maintainer")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_PAGER": "cat",
        "LC_ALL": "C.UTF-8",
    }

    def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(B4), *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120
        )
        if ok:
            assert done.returncode == 0, f"b4 {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    run.repo = repo
    run.out = tmp_path / "out"
    return run


def states(server, version: int) -> dict[str, str]:  # noqa: F811
    patches = api_get(
        server,
        "patches/",
        project="frob",
        per_page=100,
    )
    prefix = "[v2," if version == 2 else "["
    return {
        p["name"]: p["state"]
        for p in patches
        if p["name"].startswith(prefix) and (version == 2 or "[v2," not in p["name"])
    }


def test_b4_am_takes_a_series_from_the_thread_and_marks_it_under_review(server, b4):  # noqa: F811
    done = b4("am", "-o", str(b4.out), V1_PATCH_1)
    mbox = next(b4.out.glob("*.mbx")).read_text()
    # The whole series, with the trailer a reviewer gave in the thread.
    assert mbox.count("\nSubject: [PATCH ") == 3
    assert "Reviewed-by: Rae Viewer <rae@example.org>" in mbox
    assert "under-review" in done.stderr + done.stdout
    assert set(states(server, 1).values()) == {"under-review"}
    git(b4.repo, "am", str(next(b4.out.glob("*.mbx"))))
    assert commits(b4.repo)[0] == "docs: add a logo, an empty file and a file without newline"


def test_b4_shazam_applies_the_latest_revision_from_a_patchwork_url(server, b4):  # noqa: F811
    page = f"{server['base']}/project/frob/patch/{V2_PATCH_2}/"
    b4("shazam", page)
    assert commits(b4.repo)[:2] == [
        "docs: rename old.txt",
        "frob: fix the frobnicator for negative input",
    ]


def test_b4_ty_accepts_what_was_applied_and_discards_the_rest(server, b4):  # noqa: F811
    b4("shazam", V1_COVER)  # applied, and tracked for thanks
    b4("ty", "-a", "-o", str(b4.out))
    assert set(states(server, 1).values()) == {"accepted"}
    b4("am", "-o", str(b4.out), V2_COVER)  # tracked, not applied
    listed = b4("ty")
    assert "1: [PATCH v2 0/2] Fix the frobnicator" in listed.stdout + listed.stderr
    b4("ty", "-d", "1")
    assert set(states(server, 2).values()) == {"rejected"}
