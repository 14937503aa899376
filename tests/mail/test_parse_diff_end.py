"""A diff ends where git apply says: hunks are consumed by their line counts.

The mails under compat/diff-*.eml put a signature, "-"/"+" prose and empty
context lines (their lone space dropped by a mailer) right after a hunk; the
stored diff must apply with `git apply --check`, and its hash be Patchwork's.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps.mail.parse import parse_mail
from apps.patches.models import Patch
from tests.api.client import ApiClient
from tests.mails import deliver, read

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

PWHASH = Path(__file__).resolve().parents[2] / "tools" / "pwhash"
FROB = "diff --git a/src/frob.c b/src/frob.c\nindex 3333333..4444444 100644\n"
FROB += "--- a/src/frob.c\n+++ b/src/frob.c\n@@ -1,4 +1,4 @@\n int frob(int x)\n {\n"
NOTES = (
    "diff --git a/notes.txt b/notes.txt\nindex 5555555..6666666 100644\n"
    "--- a/notes.txt\n+++ b/notes.txt\n@@ -1,4 +1,4 @@\n-Frobnicator notes\n"
    "+Frobnicator release notes\n -----------------\n\n\n"
)
DIFFS = {
    "diff-signature": FROB + "-\treturn x + 1;\n+\treturn x + 2;\n }\n",
    "diff-prose": FROB + "-\treturn x + 1;\n+\treturn x + 3;\n }\n",
    "diff-blank-context": NOTES,
    "diff-blank-context-trailing": NOTES,
}
# What Patchwork hashes (its documented normalisation), written out by hand.
FROB_HASHED = "--- a/src/frob.c\n+++ b/src/frob.c\n@@ -4 +4 @@\n int frob(int x)\n {\n"
HASHED = {
    "diff-signature": FROB_HASHED + "-\treturn x + 1;\n+\treturn x + 2;\n }\n",
    "diff-prose": FROB_HASHED + "-\treturn x + 1;\n+\treturn x + 3;\n }\n",
    "diff-blank-context": "--- a/notes.txt\n+++ b/notes.txt\n@@ -4 +4 @@\n"
    "-Frobnicator notes\n+Frobnicator release notes\n -----------------\n",
}
HASHED["diff-blank-context-trailing"] = HASHED["diff-blank-context"]


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, env=env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture
def repo(tmp_path) -> Path:
    """The tree the compat/diff-*.eml patches were made against."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src/frob.c").write_text("int frob(int x)\n{\n\treturn x + 1;\n}\n")
    (tmp_path / "notes.txt").write_text("Frobnicator notes\n-----------------\n\n\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "base")
    return tmp_path


@pytest.mark.parametrize("name", sorted(DIFFS))
def test_the_diff_is_what_the_hunk_counts_consume(name):
    mail = parse_mail(read(f"compat/{name}.eml"))
    assert mail.diff == DIFFS[name]
    assert mail.hash == hashlib.sha1(HASHED[name].encode()).hexdigest()


def test_what_follows_the_hunk_stays_in_the_message():
    assert parse_mail(read("compat/diff-prose.eml")).message == (
        "Add three.\n---\n+1 from the list, for what it is worth.\n"
        "- Ada (written after the diff)\n--- not a file either"
    )
    assert parse_mail(read("compat/diff-signature.eml")).message.endswith("src/frob.c | 2 +-")


@pytest.mark.parametrize("name", sorted(DIFFS))
def test_the_stored_diff_applies_and_hashes_like_its_commit(repo, name, frob):
    mail = deliver(f"compat/{name}.eml")
    patch = Patch.objects.get(pk=int(mail.outcome.split()[1]))
    (repo / "p.diff").write_text(patch.diff)
    git(repo, "apply", "--check", "p.diff")
    git(repo, "apply", "--index", "p.diff")
    git(repo, "commit", "-qm", patch.name)
    # The git hook's way: the commit's diff through tools/pwhash finds the patch.
    shown = git(repo, "show", "--format=", "HEAD")
    hooked = subprocess.run(
        [sys.executable, str(PWHASH)], input=shown, capture_output=True, check=True
    ).stdout.decode()
    assert hooked.strip() == patch.hash
    assert ApiClient("1.3").get(f"patches/{patch.pk}/").data["hash"] == patch.hash
