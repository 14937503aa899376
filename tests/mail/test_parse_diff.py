"""Diffs split from commit messages: git, plain unified, CVS, Mercurial, binary, CRLF."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from apps.mail.parse import parse_mail
from apps.mail.parse.diff import find_filenames, split_patch
from tests.mails import read

SIMPLE = read("diff/prose.eml").decode().split("---\n", 1)[1].split("-- \n")[0]


def test_plain_unified_diff_with_two_files():
    mail = parse_mail(read("diff/plain-unified.eml"))
    assert mail.message == (
        "Made with diff -urN instead of git.\n\nSigned-off-by: Ada Lovelace <ada@example.org>"
    )
    assert mail.diff.startswith("diff -urN frob-1.0.orig/src/frob.c frob-1.0/src/frob.c\n--- ")
    assert mail.diff.endswith("@@ -1 +1,2 @@\n Frobnicator\n+It frobs twice.\n")
    assert find_filenames(mail.diff) == ["README", "src/frob.c"]


def test_cvs_index_diff():
    mail = parse_mail(read("diff/cvs.eml"))
    assert mail.message == "From a CVS checkout."
    assert mail.diff.split("\n")[:6] == [
        "Index: src/frob.c",
        "===================================================================",
        "RCS file: /cvsroot/frob/src/frob.c,v",
        "retrieving revision 1.4",
        "diff -u -r1.4 frob.c",
        "--- src/frob.c\t4 Mar 2024 09:00:00 -0000\t1.4",
    ]
    assert mail.diff.endswith("-\treturn x + 1;\n+\treturn x + 3;\n }\n")


def test_mercurial_export():
    mail = parse_mail(read("diff/hg/1.eml"))
    assert mail.message.startswith("# HG changeset patch\n# User Ada Lovelace")
    assert mail.message.endswith("frob: add a comment")
    assert mail.diff.startswith("diff -r 000000000000 -r a1b2c3d4e5f6 src/frob.c\n")
    assert find_filenames(mail.diff) == ["src/frob.c"]


def test_crlf_mail_is_normalised():
    mail = parse_mail(read("diff/crlf.eml"))
    assert "\r" not in mail.diff and "\r" not in mail.message
    assert mail.diff == SIMPLE
    assert mail.message == "Windows mailer.\n\nSigned-off-by: Ada Lovelace <ada@example.org>\n---"


def test_prose_that_looks_like_a_diff_stays_in_the_message():
    mail = parse_mail(read("diff/prose.eml"))
    assert mail.message == (
        "The diff below is small. A line of prose may even start like one:\n"
        "--- this is not a file\nand\ndiff is a word, Index: too.\n\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>\n---"
    )
    assert mail.diff == SIMPLE


def test_copy_header_only_deletion_and_context_lines_without_their_space():
    mail = parse_mail(read("diff/copy-and-context.eml"))
    assert mail.diff == (
        "diff --git a/README b/docs/README\n"
        "similarity index 90%\n"
        "copy from README\n"
        "copy to docs/README\n"
        "index 1111111..2222222 100644\n"
        "--- a/README\n"
        "+++ b/docs/README\n"
        "@@ -1,3 +1,4 @@\n"
        " Frobnicator\n"
        "\n"
        " It frobs.\n"
        "+Copied.\n"
        "diff --git a/docs/empty b/docs/empty\n"
        "deleted file mode 100644\n"
        "index e69de29..0000000\n"
    )


def test_signature_after_the_last_hunk_is_not_a_removed_line():
    diff, rest = split_patch("msg\n---\n" + SIMPLE + "-- \n2.39.5\n")
    assert diff == SIMPLE
    assert rest == "msg\n---\n-- \n2.39.5\n"


def test_hunk_line_counts_decide_where_a_diff_ends():
    text = "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n-- not a removed line, the hunk is over\n"
    diff, rest = split_patch(text)
    assert diff == "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n"
    assert rest == "-- not a removed line, the hunk is over\n"


def test_no_diff():
    assert split_patch("just words\n--- and a dash line\n") == (
        None,
        "just words\n--- and a dash line\n",
    )


def test_filenames_ignore_dev_null():
    diff = "--- /dev/null\n+++ b/new.c\n@@ -0,0 +1 @@\n+x\n--- a/old.c\n+++ /dev/null\n"
    assert find_filenames(diff) == ["new.c", "old.c"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_series_diffs_apply_exactly(tmp_path):
    """The stored diffs of renames, deletions, mode changes, binaries and empty files apply."""
    from tests.mails import git_mails

    repo = tmp_path / "frob"
    (repo / "src").mkdir(parents=True)
    (repo / "docs").mkdir()
    (repo / "src/frob.c").write_text("int frob(int x)\n{\n\treturn x + 1;\n}\n")
    (repo / "README.md").write_text("# Frobnicator\n\nIt frobs.\n")
    (repo / "docs/old.txt").write_text("old\n")
    (repo / "docs/gone.txt").write_text("this file goes away\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    for path in git_mails("v1")[1:]:
        patch = tmp_path / "p.diff"
        patch.write_text(parse_mail(path.read_bytes()).diff)
        subprocess.run(["git", "-C", str(repo), "apply", "--index", str(patch)], check=True)
    assert (repo / "docs/new.txt").read_text() == "old\n"
    assert not (repo / "docs/gone.txt").exists()
    assert (repo / "src/frob.c").stat().st_mode & 0o111
    assert (repo / "docs/logo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (repo / "docs/empty.txt").read_bytes() == b""
    assert (repo / "docs/nonl.txt").read_bytes() == b"no newline"
