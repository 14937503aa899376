#!/usr/bin/env python3
"""Build apps/mail/demo/demo.mbox: a week of a small project's mailing list.

Run from the repository root (python3 apps/mail/demo/make_demo.py); the mbox is
committed and `manage.py loaddemo` loads it through the normal ingestion path.

The patches are real `git format-patch` output of commits made here in a scratch
repository, with real commit messages. Every series only creates and edits its
own files, so `git pw series apply` works in any repository (even a new, empty
one). The archive holds: a three-patch series with a cover letter, reviewed; its
v2 sent in reply to v1, reviewed with Reviewed-by (on the cover), Tested-by and
Acked-by; a single patch, reviewed and applied; a two-patch series without a
cover letter; a pull request; a discussion thread; a mail marked
X-Patchwork-Hint: ignore.
"""

from __future__ import annotations

import mailbox
import os
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

OUT = Path(__file__).resolve().parent / "demo.mbox"
LIST_ID = "patchwork.lists.example.org"
LIST = "patchwork@lists.example.org"
START = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)

PEOPLE = {
    "ada": "Ada Lovelace <ada@example.org>",
    "bob": "Bob Builder <bob@example.org>",
    "carol": "Carol Shaw <carol@example.org>",
    "dave": "Dave Maintainer <dave@example.org>",
    "erin": "Erin Tester <erin@example.org>",
    "frank": "Frank Reviewer <frank@example.org>",
}

COUNT_V1 = '''\
"""mboxstat: how many patches each sender posted to a mailing-list archive."""

import mailbox
import sys
from collections import Counter


def count(path):
    senders = Counter()
    for message in mailbox.mbox(path):
        senders[message["From"]] += 1
    return senders


if __name__ == "__main__":
    for sender, n in count(sys.argv[1]).most_common():
        print(f"{n:5} {sender}")
'''

SKIP_V1 = COUNT_V1.replace(
    """    for message in mailbox.mbox(path):
        senders""",
    """    for message in mailbox.mbox(path):
        if message["Subject"].startswith("Re:"):
            continue
        senders""",
)

SKIP_V2 = (
    COUNT_V1.replace(
        "import mailbox\n",
        "import mailbox\nimport re\n",
    )
    .replace(
        """def count(path):""",
        """# Replies as mail clients write them: "Re:", "RE:", "Aw:" (German), "Sv:" (Nordic).
REPLY = re.compile(r"^\\s*(re|aw|sv)\\s*:", re.IGNORECASE)


def count(path):""",
    )
    .replace(
        """    for message in mailbox.mbox(path):
        senders""",
        """    for message in mailbox.mbox(path):
        if REPLY.match(message["Subject"] or ""):
            continue
        senders""",
    )
)

DOCS_V1 = """\
mboxstat
========

Counts the patches each sender posted to a mailing-list archive:

    python3 mboxstat.py list.mbox
"""

DOCS_V2 = (
    DOCS_V1
    + """
Replies (subjects starting "Re:", "Aw:" or "Sv:", in any case) are not counted.
The output is sorted by count, highest first:

        3 Ada Lovelace <ada@example.org>
        1 Bob Builder <bob@example.org>
"""
)

COMPLETION = """\
# bash completion for mboxstat: complete mbox file names only.
complete -f -X '!*.mbox' mboxstat
"""

CI = """\
# Run the tests on every push.
test:
  image: python:3.12
  script:
    - python3 -m unittest discover -s tests
"""

TEST = """\
import mailbox
import tempfile
import unittest
from pathlib import Path

from mboxstat import count


class CountTest(unittest.TestCase):
    def test_counts_each_sender(self):
        with tempfile.TemporaryDirectory() as tmp:
            box = mailbox.mbox(Path(tmp) / "list.mbox")
            for sender in ("ada@example.org", "ada@example.org", "bob@example.org"):
                box.add(f"From: {sender}\\nSubject: [PATCH] x\\n\\nbody\\n")
            box.flush()
            self.assertEqual(count(box._path), {"ada@example.org": 2, "bob@example.org": 1})
"""

SIGNED = {who: f"\nSigned-off-by: {address}\n" for who, address in PEOPLE.items()}

# (files, subject, message body) of each commit; a series is made in this order.
SERIES_V1 = [
    (
        {"mboxstat.py": COUNT_V1},
        "mboxstat: count the patches each sender posted",
        "Maintainers keep asking who sends the most patches to the list. Add a\n"
        "small script that reads an mbox archive and prints one line per sender,\n"
        "busiest first.\n",
    ),
    (
        {"mboxstat.py": SKIP_V1},
        "mboxstat: leave replies out of the count",
        "Reviews and discussion are mail too, so a busy reviewer looked like a\n"
        "busy contributor. Skip messages whose subject marks them as a reply.\n",
    ),
    (
        {"README.mboxstat": DOCS_V1},
        "docs: describe mboxstat",
        "Say what the script is for and how to run it.\n",
    ),
]
SERIES_V2 = [
    SERIES_V1[0],
    (
        {"mboxstat.py": SKIP_V2},
        "mboxstat: leave replies out of the count",
        "Reviews and discussion are mail too, so a busy reviewer looked like a\n"
        "busy contributor. Skip messages whose subject marks them as a reply,\n"
        "whatever the sender's mail client calls a reply (Re:, RE:, Aw:, Sv:).\n",
    ),
    (
        {"README.mboxstat": DOCS_V2},
        "docs: describe mboxstat",
        "Say what the script is for, how to run it, what it leaves out and what\n"
        "its output looks like.\n",
    ),
]
SINGLE = [
    (
        {"contrib/mboxstat.bash": COMPLETION},
        "contrib: bash completion for mboxstat",
        "Typing archive names in full gets old quickly. Complete the argument\n"
        "with the mbox files in the current directory.\n",
    )
]
SERIES_C = [
    (
        {"tests/test_mboxstat.py": TEST},
        "tests: a first test for the sender count",
        "Two mails from one sender and one from another must count as 2 and 1.\n",
    ),
    (
        {".ci.yml": CI},
        "ci: run the tests on every push",
        "Nobody runs the tests by hand before sending a patch; let the CI do it.\n",
    ),
]


class Repo:
    """A scratch git repository whose commits become the demo's patches."""

    def __init__(self, path: Path):
        self.path = path
        self.clock = START - timedelta(days=1)
        path.mkdir()
        self.git("init", "-q", "-b", "main")
        self.commit("ada", {}, "Initial commit", "An empty tree to start from.\n")
        self.root = self.git("rev-parse", "HEAD").strip()

    def git(self, *args: str, who: str = "ada") -> str:
        name, _, address = PEOPLE[who].partition(" <")
        stamp = self.clock.isoformat()
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": address.rstrip(">"),
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": address.rstrip(">"),
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path),
        }
        return subprocess.run(
            ["git", "-C", str(self.path), *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout

    def commit(self, who: str, files: dict[str, str], subject: str, body: str) -> str:
        self.clock += timedelta(minutes=7)
        for name, text in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.git("add", name, who=who)
        message = f"{subject}\n\n{body}{SIGNED[who] if files else ''}"
        self.git("commit", "-q", "--allow-empty", "-m", message, who=who)
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str, who: str, commits: list) -> list[str]:
        """Commits on a new branch from the root commit; their ids."""
        self.git("checkout", "-q", "-b", name, self.root)
        return [self.commit(who, files, subject, body) for files, subject, body in commits]

    def mail_body(self, sha: str, note: str = "") -> tuple[str, str]:
        """(subject, body) of `git format-patch` for one commit; note goes under the ---."""
        text = self.git("format-patch", "-1", "--stdout", "--no-signature", sha)
        headers, _, body = text.partition("\n\n")
        subject = next(line for line in headers.split("\n") if line.startswith("Subject: "))
        subject = subject.removeprefix("Subject: ").removeprefix("[PATCH] ")
        if note:
            body = body.replace("\n---\n", f"\n---\n{note}\n\n", 1)
        return subject, body + "-- \n2.39.5\n"


class Mbox:
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.mails: list[tuple[datetime, str]] = []
        self.clock = START
        self.counter = 0

    def msgid(self, who: str) -> str:
        self.counter += 1
        stamp = self.clock.strftime("%Y%m%d%H%M%S")
        return f"<{stamp}.{self.counter}-{who}@example.org>"

    def add(
        self,
        who: str,
        subject: str,
        body: str,
        *,
        reply_to: list[str] | None = None,
        minutes: int = 1,
        extra: str = "",
    ) -> str:
        self.clock += timedelta(minutes=minutes)
        msgid = self.msgid(who)
        head = [
            f"From: {PEOPLE[who]}",
            f"To: {LIST}",
            f"Subject: {subject}",
            f"Date: {format_datetime(self.clock)}",
            f"Message-Id: {msgid}",
        ]
        if reply_to:
            head.append(f"In-Reply-To: {reply_to[-1]}")
            head.append("References: " + "\n ".join(reply_to))
        head += [
            f"List-Id: Patchwork development <{LIST_ID}>",
            f"List-Post: <mailto:{LIST}>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        if extra:
            head.append(extra)
        self.mails.append((self.clock, "\n".join(head) + "\n\n" + body))
        return msgid

    def series(self, who, shas, *, prefix, cover=None, reply_to=None, notes=None):
        """A git send-email style series: cover (if any) first, patches reply to it."""
        total = len(shas)
        ids = []
        root = reply_to or []
        if cover:
            title, blurb = cover
            cover_id = self.add(who, f"[{prefix} 0/{total}] {title}", blurb, reply_to=root or None)
            ids.append(cover_id)
            root = [*root, cover_id]
        for number, sha in enumerate(shas, start=1):
            subject, body = self.repo.mail_body(sha, (notes or {}).get(number, ""))
            marker = f"{number}/{total}" if total > 1 else ""
            tag = f"[{prefix} {marker}]".replace(" ]", "]")
            ids.append(self.add(who, f"{tag} {subject}", body, reply_to=root or None, minutes=0))
            if not cover and number == 1:
                root = [*root, ids[0]]
        return ids

    def write(self) -> None:
        OUT.unlink(missing_ok=True)
        box = mailbox.mbox(str(OUT))
        for _, text in sorted(self.mails, key=lambda m: m[0]):
            box.add(mailbox.mboxMessage(text.encode()))
        box.flush()
        box.close()


def quote(text: str, lines: int = 6) -> str:
    return "\n".join("> " + line if line else ">" for line in text.strip().split("\n")[:lines])


def reviews_of_v1(box: Mbox, v1: list[str], v1_shas: list[str]) -> None:
    box.clock += timedelta(hours=3)
    diff = box.repo.git("show", "--format=", v1_shas[1])
    hunk = diff[diff.index("@@") :]
    review = box.add(
        "bob",
        "Re: [PATCH 2/3] mboxstat: leave replies out of the count",
        "On Mon, Ada Lovelace wrote:\n"
        + quote(hunk, 8)
        + '\n\nThis misses "RE:" from Outlook and "Aw:" from German mail clients,\n'
        "and a mail without a Subject makes it crash. A case-insensitive regex\n"
        "over the usual prefixes would cover all of them.\n",
        reply_to=[v1[0], v1[2]],
    )
    box.add(
        "ada",
        "Re: [PATCH 2/3] mboxstat: leave replies out of the count",
        "> A case-insensitive regex over the usual prefixes would cover all of them.\n\n"
        "Good catch, will do in v2.\n",
        reply_to=[v1[0], v1[2], review],
        minutes=20,
    )
    box.add(
        "dave",
        "Re: [PATCH 0/3] mboxstat: who sends the patches",
        "Useful, thanks. Please send a v2 with Bob's comment addressed and an\n"
        "example of the output in the docs.\n",
        reply_to=[v1[0]],
        minutes=45,
    )


def reviews_of_v2(box: Mbox, v1: list[str], v2: list[str]) -> None:
    box.clock += timedelta(hours=2)
    box.add(
        "bob",
        "Re: [PATCH v2 0/3] mboxstat: who sends the patches",
        "The regex reads well and a mail without a Subject is fine now.\n"
        "For the series:\n\n"
        "Reviewed-by: Bob Builder <bob@example.org>\n",
        reply_to=[v1[0], v2[0]],
    )
    box.add(
        "erin",
        "Re: [PATCH v2 1/3] mboxstat: count the patches each sender posted",
        "Ran it over last month's archive (4,000 mails): the counts match a\n"
        "grep of the From lines.\n\n"
        "Tested-by: Erin Tester <erin@example.org>\n",
        reply_to=[v1[0], v2[0], v2[1]],
        minutes=30,
    )
    box.add(
        "dave",
        "Re: [PATCH v2 3/3] docs: describe mboxstat",
        "Acked-by: Dave Maintainer <dave@example.org>\n",
        reply_to=[v1[0], v2[0], v2[3]],
        minutes=10,
    )


def pull_request(repo: Repo, branch: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        # request-pull asks the remote for the branch: offer it from a bare clone.
        bare = Path(tmp) / "mboxstat.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
        text = subprocess.run(
            ["git", "-C", str(bare), "request-pull", repo.root, str(bare), branch],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return text.replace(str(bare), "https://git.example.org/mboxstat.git")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Repo(Path(tmp) / "mboxstat")
        v1_shas = repo.branch("mboxstat-v1", "ada", SERIES_V1)
        v2_shas = repo.branch("mboxstat-v2", "ada", SERIES_V2)
        single_sha = repo.branch("completion", "bob", SINGLE)
        c_shas = repo.branch("tests", "carol", SERIES_C)
        box = Mbox(repo)
        ada_series(box, v1_shas, v2_shas)
        box.clock += timedelta(hours=5)
        bob_single(box, single_sha)
        box.clock += timedelta(days=1)
        carol_series(box, c_shas)
        box.clock += timedelta(hours=6)
        list_chatter(box, repo)
        box.write()


def ada_series(box: Mbox, v1_shas: list[str], v2_shas: list[str]) -> None:
    """Ada's mboxstat, v1 and a v2 a day later, with their reviews."""
    cover = (
        "mboxstat: who sends the patches",
        "A small script that counts the patches each sender posted to a list\n"
        "archive, leaving replies out, and its documentation.\n\n"
        "Ada Lovelace (3):\n"
        "  mboxstat: count the patches each sender posted\n"
        "  mboxstat: leave replies out of the count\n"
        "  docs: describe mboxstat\n",
    )
    v1 = box.series("ada", v1_shas, prefix="PATCH", cover=cover)
    reviews_of_v1(box, v1, v1_shas)
    box.clock += timedelta(days=1)
    v2 = box.series(
        "ada",
        v2_shas,
        prefix="PATCH v2",
        cover=(
            cover[0],
            "Changes since v1: a regex for replies (Bob), an example in the docs\n"
            "(Dave).\n\n" + cover[1],
        ),
        reply_to=[v1[0]],
        notes={2: "v2: match Re:/RE:/Aw:/Sv: with a regex; survive a missing Subject"},
    )
    reviews_of_v2(box, v1, v2)


def bob_single(box: Mbox, single_sha: list[str]) -> None:
    """Bob's single patch, reviewed and applied."""
    single = box.series("bob", single_sha, prefix="PATCH")
    box.add(
        "frank",
        "Re: [PATCH] contrib: bash completion for mboxstat",
        "Reviewed-by: Frank Reviewer <frank@example.org>\n",
        reply_to=single,
        minutes=40,
    )
    box.add(
        "dave",
        "Re: [PATCH] contrib: bash completion for mboxstat",
        "Applied, thanks!\n",
        reply_to=single,
        minutes=50,
    )


def carol_series(box: Mbox, c_shas: list[str]) -> None:
    """Carol's two tests, the first reviewed."""
    series_c = box.series("carol", c_shas, prefix="PATCH")
    box.add(
        "frank",
        "Re: [PATCH 1/2] tests: a first test for the sender count",
        "Reviewed-by: Frank Reviewer <frank@example.org>\n",
        reply_to=series_c[:1],
        minutes=30,
    )


def list_chatter(box: Mbox, repo: Repo) -> None:
    """A pull request, a discussion without a patch, and a patch the list ignores."""
    box.add(
        "dave",
        "[GIT PULL] mboxstat for the next release",
        "Hi,\n\nplease pull mboxstat, as reviewed on the list.\n\n"
        + pull_request(repo, "mboxstat-v2")
        + "-- \nDave\n",
    )
    box.clock += timedelta(hours=1)
    thread = box.add(
        "carol",
        "Release planning for 1.0",
        "Shall we branch next week? Anything that must go in first?\n",
    )
    box.add(
        "ada",
        "Re: Release planning for 1.0",
        "> Shall we branch next week?\n\nFine with me once mboxstat is in.\n",
        reply_to=[thread],
        minutes=30,
    )
    box.add(
        "frank",
        "[PATCH] scratch: do not track this",
        "A throw-away experiment.\n\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n"
        "@@ -1 +1 @@\n-a\n+b\n",
        extra="X-Patchwork-Hint: ignore",
    )


if __name__ == "__main__":
    main()
