"""The Patchwork hash: the documented algorithm, tools/pwhash and hashing.py agree."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.mail.parse import parse_mail
from apps.mail.parse.hashing import hash_diff
from tests.mails import DATA

PWHASH = Path(__file__).resolve().parents[2] / "tools" / "pwhash"


def load_tool():
    """tools/pwhash imported as a module (it has no .py suffix)."""
    loader = importlib.machinery.SourceFileLoader("pwhash", str(PWHASH))
    spec = importlib.util.spec_from_loader("pwhash", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


TOOL = load_tool()


def pwhash(diff: bytes) -> str:
    result = subprocess.run(
        [sys.executable, str(PWHASH)], input=diff, capture_output=True, check=True
    )
    return result.stdout.decode().strip()


def test_algorithm_as_documented():
    diff = (
        "diff --git a/src/frob.c b/src/frob.c\r\n"
        "index e3f2946..f0de7e0 100644\n"
        "--- a/src/frob.c\t2024-03-01\n"
        "+++ tree/src/frob.c\n"
        "@@ -10,4 +12,5 @@ int frob(int x)\n"
        " {\n"
        "+\tx++;\n"
        "\n"
        "-\treturn x;\n"
        "@@ -40 +41 @@\n"
        "\\ No newline at end of file\n"
        "--- /dev/null\n"
    )
    normalised = (
        "--- a/src/frob.c\n"
        "+++ b/src/frob.c\n"
        "@@ -4 +5 @@\n"
        " {\n"
        "+\tx++;\n"
        "-\treturn x;\n"
        "@@ -1 +1 @@\n"
        "--- a/dev/null\n"
    )
    assert hash_diff(diff) == hashlib.sha1(normalised.encode()).hexdigest()


def test_line_numbers_and_tree_names_do_not_matter():
    one = "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n x\n+y\n z\n"
    moved = "--- x/f\n+++ y/f\n@@ -100,2 +200,3 @@ context\n x\n+y\n z\n"
    other = "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n x\n+Y\n z\n"
    assert hash_diff(one) == hash_diff(moved) != hash_diff(other)


def all_diffs() -> list[str]:
    diffs = []
    for path in sorted(DATA.rglob("*.eml")):
        try:
            diff = parse_mail(path.read_bytes()).diff
        except ValueError:
            continue
        if diff:
            diffs.append(diff)
    return diffs


def test_pwhash_agrees_with_hashing_py_on_every_test_diff():
    diffs = all_diffs()
    assert len(diffs) > 15
    for diff in diffs:
        assert TOOL.hash_diff(diff) == hash_diff(diff)
    # And as a program reading stdin, bytes and all.
    for diff in diffs[:3]:
        assert pwhash(diff.encode()) == hash_diff(diff)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["--- a/x", "+++ b/x", "@@ -1,3 +1 @@", "@@ -7 +8,0 @@", "\\ No", ""]),
            st.text(alphabet="+- abc\r\t/@é", max_size=12),
        ),
        max_size=15,
    )
)
def test_pwhash_and_hashing_py_are_the_same_function(lines):
    diff = "\n".join(lines)
    assert TOOL.hash_diff(diff) == hash_diff(diff)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_hook_usage_matches_the_stored_hash(tmp_path):
    """`git show --format= | pwhash` on the commit gives the hash of the mailed patch."""
    mail = parse_mail(
        (DATA / "git" / "v1" / "0001-frob-fix-the-frobnicator-for-negative-input.eml").read_bytes()
    )
    repo = tmp_path / "frob"
    (repo / "src").mkdir(parents=True)
    (repo / "src/frob.c").write_text("int frob(int x)\n{\n\treturn x + 1;\n}\n")
    env = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b",
        "PATH": "/usr/bin:/bin",
    }

    def git(*args, **kw):
        return subprocess.run(
            ["git", "-C", str(repo), *args], check=True, env=env, capture_output=True, **kw
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "base")
    (repo / "src/frob.c").write_text(
        "int frob(int x)\n{\n\tif (x < 0)\n\t\treturn 0;\n\treturn x + 1;\n}\n"
    )
    git("commit", "-qam", "frob: fix the frobnicator for negative input")
    shown = git("show", "--format=", "HEAD").stdout
    assert pwhash(shown) == mail.hash == hash_diff(mail.diff)


def test_the_hash_is_made_by_the_parse_and_travels_with_it():
    # A parse worker (apps/mail/parallel.py) hashes the diff: the writer only reads it.
    import pickle

    from apps.mail.parallel import incoming

    raw = next(p for p in sorted(DATA.rglob("*.eml")) if parse_mail(p.read_bytes()).diff)
    parsed = incoming(raw.read_bytes()).parsed
    sent = pickle.loads(pickle.dumps(parsed))
    assert vars(sent)["hash"] == hash_diff(parsed.diff)
