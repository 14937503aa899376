#!/usr/bin/env python3
"""Regenerate the git-made mails under tests/data/mail/git/ from a throw-away repository.

Run once (python3 tests/data/mail/generate_git_mails.py); the output is committed,
so tests do not need git. Message-IDs are made stable by replacing the timestamp
git puts into them, and every mail gets the list headers a list server adds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "git"
LIST_HEADERS = (
    "List-Id: Frobnicator development <frob.lists.example.org>\n"
    "List-Post: <mailto:frob@lists.example.org>\n"
)


def git(repo: Path, *args: str, env: dict | None = None) -> str:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=full_env
    ).stdout


def commit(repo: Path, when: str, message: str) -> None:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=env)


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text)
    else:
        path.write_bytes(text)


def format_patch(repo: Path, name: str, rev: str, *args: str, date_base: int = 0) -> list[Path]:
    """format-patch into OUT/name with stable Message-IDs and list headers."""
    target = OUT / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    git(repo, "format-patch", "-q", "-o", str(target), *args, rev)
    files = sorted(target.glob("*.patch"))
    for index, path in enumerate(files):
        text = path.read_text()
        # git puts the current time into Message-IDs: make them stable per scenario.
        text = re.sub(r"\.(\d{9,11})\.git\.", f".{name}.git.", text)
        # Spread the dates like git send-email does (one second apart).
        text = re.sub(
            r"^Date: .*$",
            f"Date: Fri, 1 Mar 2024 10:{date_base:02d}:{index:02d} +0000",
            text,
            count=1,
            flags=re.MULTILINE,
        )
        head, sep, body = text.partition("\n\n")
        if "\nMessage-Id: " not in head:
            # Unthreaded format-patch output has none; git send-email adds one like this.
            head += f"\nMessage-Id: <20240301100{date_base:02d}{index:02d}.4242-{index}-ada@example.org>"
        # Drop the mbox "From <sha> Mon Sep 17" line: mails on a list do not carry it.
        head = "\n".join(line for line in head.split("\n") if not line.startswith("From "))
        path.with_suffix(".eml").write_text(head + "\n" + LIST_HEADERS + sep[1:] + body)
        path.unlink()
    return sorted(target.glob("*.eml"))


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    repo = tmp / "frob"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Ada Lovelace")
    git(repo, "config", "user.email", "ada@example.org")
    write(repo / "src/frob.c", "int frob(int x)\n{\n\treturn x + 1;\n}\n")
    write(repo / "README.md", "# Frobnicator\n\nIt frobs.\n")
    write(repo / "docs/old.txt", "old\n")
    write(repo / "docs/gone.txt", "this file goes away\n")
    commit(repo, "2024-03-01T09:00:00Z", "initial import")
    git(repo, "tag", "base")

    write(
        repo / "src/frob.c", "int frob(int x)\n{\n\tif (x < 0)\n\t\treturn 0;\n\treturn x + 1;\n}\n"
    )
    commit(
        repo,
        "2024-03-01T09:10:00Z",
        "frob: fix the frobnicator for negative input\n\n"
        "Negative input used to wrap around. Return 0 instead.\n\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>",
    )
    git(repo, "mv", "docs/old.txt", "docs/new.txt")
    (repo / "src/frob.c").chmod(0o755)
    (repo / "docs/gone.txt").unlink()
    commit(
        repo,
        "2024-03-01T09:20:00Z",
        "docs: rename old.txt, drop gone.txt, make frob.c executable\n\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>",
    )
    write(repo / "docs/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01")
    write(repo / "docs/empty.txt", "")
    write(repo / "docs/nonl.txt", "no newline")
    commit(
        repo,
        "2024-03-01T09:30:00Z",
        "docs: add a logo, an empty file and a file without newline\n\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>",
    )
    git(repo, "tag", "v1")

    # v1: cover letter and three patches, shallow threading (git send-email's default).
    v1 = format_patch(repo, "v1", "base..v1", "--thread=shallow", "--cover-letter")
    cover = v1[0].read_text()
    cover = cover.replace("*** SUBJECT HERE ***", "Fix the frobnicator and tidy the docs")
    cover = cover.replace(
        "*** BLURB HERE ***",
        "The frobnicator wrapped around on negative input; this fixes it\n"
        "and tidies the documentation while at it.\n\n"
        "Depends-on: <20240201090000.1234-1-bob@example.org>",
    )
    v1[0].write_text(cover)
    v1_cover_msgid = re.search(r"^Message-Id: (<.*>)$", cover, re.MULTILINE).group(1)

    # v2 of the first two patches, sent in reply to the v1 cover letter.
    git(repo, "checkout", "-q", "-b", "v2", "base")
    write(
        repo / "src/frob.c",
        "int frob(int x)\n{\n\tif (x < 0)\n\t\treturn -x;\n\treturn x + 1;\n}\n",
    )
    commit(
        repo,
        "2024-03-02T09:10:00Z",
        "frob: fix the frobnicator for negative input\n\n"
        "Negative input used to wrap around. Mirror it instead.\n\n"
        "Signed-off-by: Ada Lovelace <ada@example.org>",
    )
    git(repo, "mv", "docs/old.txt", "docs/new.txt")
    commit(
        repo,
        "2024-03-02T09:20:00Z",
        "docs: rename old.txt\n\nSigned-off-by: Ada Lovelace <ada@example.org>",
    )
    v2 = format_patch(
        repo,
        "v2",
        "base..v2",
        "--thread=shallow",
        "--cover-letter",
        "--subject-prefix=PATCH v2",
        f"--in-reply-to={v1_cover_msgid}",
        date_base=30,
    )
    cover = v2[0].read_text()
    cover = cover.replace("*** SUBJECT HERE ***", "Fix the frobnicator")
    cover = cover.replace("*** BLURB HERE ***", "v2: mirror negative input instead of clamping it.")
    v2[0].write_text(cover)

    # Deep threading (--chain-reply-to) without a cover letter.
    format_patch(repo, "deep", "base..v1", "--thread=deep", "--subject-prefix=PATCH", date_base=40)
    # Unthreaded, with a cover letter: only the series markers tie them together.
    unthreaded = format_patch(
        repo, "unthreaded", "base..v2", "--no-thread", "--cover-letter", date_base=45
    )
    cover = unthreaded[0].read_text()
    cover = cover.replace("*** SUBJECT HERE ***", "Unthreaded frobnication").replace(
        "*** BLURB HERE ***", "Sent without threading."
    )
    unthreaded[0].write_text(cover)
    # A single patch: [PATCH] with no marker.
    format_patch(repo, "single", "v1~1..v1", date_base=50)

    # A pull request for the v1 branch, with and without the diff.
    git(repo, "checkout", "-q", "master")
    for name, extra in (("pull", []), ("pull-with-diff", ["-p"])):
        # request-pull checks the URL with ls-remote: ask about the local repository.
        text = git(repo, "request-pull", *extra, "base", str(repo), "v1")
        text = text.replace(str(repo), "git://git.example.org/frob.git")
        text = text.replace(
            "\n  git://git.example.org/frob.git tags/v1",
            "\n  git://git.example.org/frob.git tags/v1  ",
        )
        mail = (
            "From: Ada Lovelace <ada@example.org>\n"
            "To: frob@lists.example.org\n"
            f"Date: Sat, 2 Mar 2024 12:00:00 +0000\n"
            f"Message-Id: <{name}.20240302120000.ada@example.org>\n"
            "Subject: [GIT PULL] frobnicator fixes for 1.1\n"
            + LIST_HEADERS
            + "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
            "Hi,\n\nplease pull the frobnicator fixes.\n\n" + text + "-- \nAda\n"
        )
        write(OUT / f"{name}.eml", mail)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
