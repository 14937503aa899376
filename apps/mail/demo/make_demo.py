#!/usr/bin/env python3
"""Build apps/mail/demo/demo.mbox from small commits of this repository's own history.

Run once from the repository root (python3 apps/mail/demo/make_demo.py); the mbox is
committed and `manage.py loaddemo` loads it through the normal ingestion path.
It holds: a three-patch series with a cover letter, its v2 sent in reply to v1,
a single patch, a two-patch series without a cover letter, a pull request,
review replies with Acked-by/Reviewed-by/Tested-by, a discussion thread and a
mail marked X-Patchwork-Hint: ignore.
"""

from __future__ import annotations

import mailbox
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
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

# Small commits of this repository (stable: history is never rewritten).
SERIES_A = ["3f4948a", "1b39416", "39f5285"]
SINGLE_B = "25fc77b"
SERIES_C = ["dd49d07", "f74ad72"]
PULL_BASE, PULL_HEAD = "29daf31", "3f4948a"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout


def commit_mail_body(sha: str, note: str = "") -> tuple[str, str]:
    """(subject, body) of `git format-patch` for one commit; note goes under the ---."""
    text = git("format-patch", "-1", "--stdout", "--no-signature", sha)
    headers, _, body = text.partition("\n\n")
    subject = ""
    lines = headers.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("Subject: "):
            subject = line[len("Subject: ") :]
            for more in lines[i + 1 :]:
                if not more.startswith((" ", "\t")):
                    break
                subject += " " + more.strip()
    subject = subject.removeprefix("[PATCH] ")
    if note:
        body = body.replace("\n---\n", f"\n---\n{note}\n\n", 1)
    return subject, body + "-- \n2.39.5\n"


class Mbox:
    def __init__(self) -> None:
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
            subject, body = commit_mail_body(sha, (notes or {}).get(number, ""))
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
    return "\n".join("> " + line for line in text.split("\n")[:lines])


def main() -> None:
    box = Mbox()
    cover_a = (
        "Wire up the URL includes and periodic jobs",
        "This wires the per-app URL modules into the root URLconf, gives the\n"
        "REST API a webhooks router to mount and schedules the webhook sweep.\n\n"
        "Ada Lovelace (3):\n  URL includes\n  webhooks router\n  beat entries\n",
    )
    v1 = box.series("ada", SERIES_A, prefix="PATCH", cover=cover_a)
    box.clock += timedelta(hours=3)
    review = box.add(
        "bob",
        "Re: [PATCH 2/3] webhooks: placeholder ninja router for the REST API to mount",
        "On Mon, Ada Lovelace wrote:\n"
        + quote(commit_mail_body(SERIES_A[1])[1])
        + "\n\nLooks right to me; the router can grow later.\n\n"
        "Reviewed-by: Bob Builder <bob@example.org>\n",
        reply_to=[v1[0], v1[2]],
    )
    box.add(
        "ada",
        "Re: [PATCH 2/3] webhooks: placeholder ninja router for the REST API to mount",
        "> Looks right to me; the router can grow later.\n\nThanks Bob!\n",
        reply_to=[v1[0], v1[2], review],
        minutes=20,
    )
    box.add(
        "dave",
        "Re: [PATCH 0/3] Wire up the URL includes and periodic jobs",
        "Nice cleanup. Please resend with the commit messages reworded.\n\n"
        "Acked-by: Dave Maintainer <dave@example.org>\n",
        reply_to=[v1[0]],
        minutes=45,
    )
    box.clock += timedelta(days=1)
    v2 = box.series(
        "ada",
        SERIES_A,
        prefix="PATCH v2",
        cover=(cover_a[0], "v2: reworded commit messages as Dave asked.\n\n" + cover_a[1]),
        reply_to=[v1[0]],
        notes={2: "v2: reworded the commit message"},
    )
    box.clock += timedelta(hours=2)
    box.add(
        "erin",
        "Re: [PATCH v2 1/3] URL includes for accounts, webhook pages and pwclient pages",
        "Booted it and clicked through every page.\n\nTested-by: Erin Tester <erin@example.org>\n",
        reply_to=[v1[0], v2[0], v2[1]],
    )
    box.add(
        "dave",
        "Re: [PATCH v2 3/3] webhooks: beat entries for the delivery sweep and delivery-log retention",
        "Acked-by: Dave Maintainer <dave@example.org>\n",
        reply_to=[v1[0], v2[0], v2[3]],
        minutes=10,
    )

    box.clock += timedelta(hours=5)
    single = box.series("bob", [SINGLE_B], prefix="PATCH")
    box.add(
        "dave",
        "Re: [PATCH] Test structured JSON logs and LOG_FORMAT validation",
        "Applied, thanks!\n\nAcked-by: Dave Maintainer <dave@example.org>\n",
        reply_to=single,
        minutes=90,
    )

    box.clock += timedelta(days=1)
    series_c = box.series("carol", SERIES_C, prefix="PATCH")
    box.add(
        "frank",
        "Re: [PATCH 1/2] Accounts: URL names login, logout, register, user-profile, about with first simple views",
        "Reviewed-by: Frank Reviewer <frank@example.org>\n",
        reply_to=series_c[:1],
        minutes=30,
    )

    box.clock += timedelta(hours=6)
    with tempfile.TemporaryDirectory() as tmp:
        # request-pull asks the remote for the branch: offer it from a scratch clone.
        clone = Path(tmp) / "patchwork"
        subprocess.run(["git", "clone", "-q", "--bare", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "branch", "scaffolding", PULL_HEAD], check=True)
        pull = subprocess.run(
            ["git", "-C", str(clone), "request-pull", PULL_BASE, str(clone), "scaffolding"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.replace(str(clone), "https://git.example.org/patchwork.git")
    box.add(
        "dave",
        "[GIT PULL] Patchwork scaffolding for the next release",
        "Hi,\n\nplease pull the scaffolding work.\n\n" + pull + "-- \nDave\n",
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
        "> Shall we branch next week?\n\nFine with me once the URL series is in.\n",
        reply_to=[thread],
        minutes=30,
    )
    box.add(
        "frank",
        "[PATCH] scratch: do not track this",
        "A throw-away experiment.\n\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
        extra="X-Patchwork-Hint: ignore",
    )
    box.write()


if __name__ == "__main__":
    main()
