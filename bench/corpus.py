"""A realistic mailing-list archive (mbox) made from real git history, and a multiplier.

    python -m bench.corpus generate [--repo PATH] [--seed N] -o list.mbox
    python -m bench.corpus multiply list.mbox --messages 20000 -o big.mbox

`generate` turns the commits of any git repository (default: this project's)
into what a busy list carries: series with and without cover letters, v2
revisions sent in reply to v1 or as a new thread, patches threaded shallow,
deep or not at all, review replies with trailers (Reviewed-by, Acked-by,
Tested-by) and answers to them, pull requests, plain discussion threads and a
mail marked X-Patchwork-Hint: ignore. Dates follow a simulated clock (bursts of
series, replies hours later, rerolls days later) in the senders' time zones,
and the mbox is in *delivery* order: messages sent close together arrive
shuffled within a window, as lists deliver them. Same repository, same seed:
same bytes.

`multiply` streams an archive into a larger one: copies with fresh Message-IDs
(In-Reply-To and References rewritten to match) and dates shifted past the
previous copy, so threads, series and replies stay intact in every copy. It
reads and writes one message at a time: memory does not grow with the size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.header import Header
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

DEFAULT_REPO = Path(__file__).resolve().parents[1]
DEFAULT_LIST_ID = "patchwork.lists.example.org"
DEFAULT_LIST = "patchwork@lists.example.org"
START = dt.datetime(2024, 1, 8, 8, 0, tzinfo=dt.UTC)
# Commits whose mail would be larger than this are left out (lists refuse such mail).
MAX_PATCH_BYTES = 200_000
# Messages sent this close together may be delivered in any order.
DELIVERY_WINDOW = dt.timedelta(minutes=10)

FIRST = [
    "Ada", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Karl", "Liam", "Mallory", "Nina", "Oscar", "Peggy", "Quentin", "Rupert", "Sybil",
    "Trent", "Ursula", "Victor", "Walter", "Xena", "Yuki", "Zoë", "Ana", "Björn", "Chloé",
    "Dmitri", "Éva", "Farid", "Gunnar", "Hiroshi", "Ines", "Jürgen", "Kasia", "Lars",
]  # fmt: skip
LAST = [
    "Lovelace", "Builder", "Shaw", "Maintainer", "Tester", "Reviewer", "Hopper", "Müller",
    "Ivanov", "Nakamura", "Okafor", "Petersen", "Quist", "Rossi", "Sørensen", "Tanaka",
    "Umarov", "Virtanen", "Wójcik", "Xu", "Yilmaz", "Zhang", "García", "Novák",
]  # fmt: skip
DOMAINS = ["example.org", "example.com", "mail.example.net", "corp.example", "dev.example.io"]
ZONES = [0, 60, 120, -300, -420, 330, 480, 540, -180, 600]  # minutes east of UTC
REVIEW_LINES = [
    "Looks good to me.",
    "Nice cleanup, thanks.",
    "I gave this a spin on my setup, no regressions.",
    "Minor nit below, otherwise fine.",
    "This makes the code much easier to follow.",
    "Could you add a test for the error path? Not a blocker.",
    "I wonder whether this should be split, but it reads fine as is.",
]
QUESTIONS = [
    "Why is this needed? The caller already checks for that case.",
    "Does this change the behaviour for existing users?",
    "Please explain in the commit message why this is safe.",
    "Is there a reason not to do this in the caller instead?",
]
ANSWERS = [
    "Good point, I'll fix it in v2.",
    "It is needed because the other path can race with it; I'll say so in the log.",
    "Thanks for the review!",
    "Agreed, will respin.",
]
TOPICS = [
    "Release planning for the next version",
    "CI is failing on the main branch",
    "Proposal: drop support for old Python versions",
    "Question about the review process",
    "Call for testing",
    "Meeting notes from the weekly sync",
    "Heads-up: reorganising the test suite",
]
TRAILERS = ["Reviewed-by", "Acked-by", "Tested-by"]


# --- git -------------------------------------------------------------------------------


@dataclass
class Commit:
    sha: str
    subject: str
    body: str  # the commit message after the subject line
    patch: str  # "---", diffstat and the diff, as git format-patch writes them


def read_commits(repo: Path, max_commits: int = 2000) -> list[Commit]:
    """The repository's non-merge commits, oldest first (the newest max_commits of them)."""
    fmt = "%x1e%H%x1f%B%x1f"
    out = subprocess.run(
        [
            "git", "-C", str(repo), "log", "--no-merges", f"-n{max_commits}", "--reverse",
            f"--format={fmt}", "--stat=72", "--patch", "--no-color", "--no-ext-diff",
        ],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8", "replace")  # fmt: skip
    commits = []
    for chunk in out.split("\x1e")[1:]:
        sha, message, patch = (chunk.split("\x1f", 2) + ["", ""])[:3]
        subject, _, body = message.strip().partition("\n")
        patch = patch.lstrip("\n")
        if "diff --git" not in patch or len(patch) > MAX_PATCH_BYTES:
            continue
        if not patch.startswith("---"):
            patch = "---\n" + patch
        commits.append(
            Commit(sha.strip(), " ".join(subject.split()), body.strip("\n"), patch.rstrip("\n"))
        )
    if not commits:
        raise SystemExit(f"{repo}: no commits with a usable diff")
    return commits


# --- people and mail ---------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    zone: int

    @property
    def address(self) -> str:
        if self.name.isascii():
            return f"{self.name} <{self.email}>"
        return f"{Header(self.name, 'utf-8').encode()} <{self.email}>"


def make_people(rng: random.Random, count: int) -> list[Person]:
    people, seen = [], set()
    while len(people) < count:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = re.sub(r"[^a-z]", "", f"{first}.{last}".lower().encode("ascii", "ignore").decode())
        email = f"{local}{len(people) if (first, last) in seen else ''}@{rng.choice(DOMAINS)}"
        seen.add((first, last))
        people.append(Person(f"{first} {last}", email, rng.choice(ZONES)))
    return people


def encode_subject(subject: str) -> str:
    return subject if subject.isascii() else Header(subject, "utf-8").encode()


def escape_from(body: str) -> str:
    """mboxrd: body lines starting with 'From ' (or quoted ones) get one more '>'."""
    return re.sub(r"^(>*From )", r">\1", body, flags=re.MULTILINE)


@dataclass
class Mail:
    date: dt.datetime
    msgid: str
    author: Person
    subject: str
    body: str
    refs: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    cc: list[Person] = field(default_factory=list)
    is_cover: bool = False
    delivered: dt.datetime | None = None

    def to_bytes(self, list_id: str, list_addr: str) -> bytes:
        zone = dt.timezone(dt.timedelta(minutes=self.author.zone))
        head = [
            f"From: {self.author.address}",
            f"To: {list_addr}",
        ]
        if self.cc:
            head.append("Cc: " + ",\n\t".join(p.address for p in self.cc))
        head += [
            f"Subject: {encode_subject(self.subject)}",
            f"Date: {format_datetime(self.date.astimezone(zone))}",
            f"Message-Id: {self.msgid}",
        ]
        if self.refs:
            head.append(f"In-Reply-To: {self.refs[-1]}")
            head.append("References: " + "\n ".join(self.refs))
        head += [
            f"List-Id: <{list_id}>",
            f"List-Post: <mailto:{list_addr}>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=UTF-8",
            "Content-Transfer-Encoding: 8bit",
            *self.extra,
        ]
        body = self.body if self.body.endswith("\n") else self.body + "\n"
        return ("\n".join(head) + "\n\n" + escape_from(body)).encode()


# --- the list's traffic ---------------------------------------------------------------------


class ListSimulator:
    """Builds the list's mail from commits: series, revisions, reviews, pulls, discussion."""

    def __init__(self, commits: list[Commit], seed: int, people: int = 60) -> None:
        self.rng = random.Random(seed)
        self.commits = commits
        self.people = make_people(self.rng, people)
        # A few people send most of the patches; maintainers review most of them.
        self.maintainers = self.people[:3]
        self.weights = [1.0 / (i + 1) for i in range(len(self.people))]
        self.mails: list[Mail] = []
        self.clock = START
        self.counter = 0
        self.tag = hashlib.sha1(f"{seed}".encode()).hexdigest()[:6]

    # helpers
    def submitter(self) -> Person:
        return self.rng.choices(self.people, weights=self.weights)[0]

    def reviewer(self, not_: Person) -> Person:
        pool = [p for p in self.maintainers if p != not_] or self.people
        if self.rng.random() < 0.3:
            pool = [p for p in self.people if p != not_]
        return self.rng.choice(pool)

    def msgid(self, who: Person, when: dt.datetime) -> str:
        self.counter += 1
        stamp = when.strftime("%Y%m%d%H%M%S")
        return f"<{stamp}.{self.counter}-{self.tag}-{who.email.split('@')[0]}@{who.email.split('@')[1]}>"

    def add(self, when: dt.datetime, who: Person, subject: str, body: str, **kw) -> Mail:
        mail = Mail(when, self.msgid(who, when), who, subject, body, **kw)
        self.mails.append(mail)
        return mail

    def later(self, base: dt.datetime, mean_hours: float, cap_hours: float = 96) -> dt.datetime:
        hours = min(self.rng.expovariate(1 / mean_hours), cap_hours)
        return base + dt.timedelta(hours=hours, seconds=self.rng.randint(0, 59))

    # traffic
    def run(self, rounds: int = 1) -> list[Mail]:
        # The first chunks are fixed kinds, so even a short history shows each of them once:
        # a v2 in reply to v1, a v2 as a new thread, a pull request and a discussion.
        sent = 0
        for _ in range(rounds):
            index = 0
            while index < len(self.commits):
                size = self._series_size()
                chunk = self.commits[index : index + size]
                index += size
                self.clock += dt.timedelta(minutes=self.rng.expovariate(1 / 45))
                if sent == 2 or (sent > 3 and self.rng.random() < 0.04 and len(chunk) > 1):
                    self._pull_request(chunk)
                else:
                    reroll = {0: "threaded", 1: "unthreaded"}.get(sent)
                    self._series_with_revisions(chunk, reroll=reroll)
                if sent == 3 or self.rng.random() < 0.08:
                    self._discussion()
                sent += 1
        self._ignored_mail()
        return self.mails

    def _series_size(self) -> int:
        roll = self.rng.random()
        if roll < 0.45:
            return 1
        if roll < 0.85:
            return self.rng.randint(2, 5)
        if roll < 0.97:
            return self.rng.randint(6, 12)
        return self.rng.randint(13, 30)

    def _series_with_revisions(self, chunk: list[Commit], reroll: str | None = None) -> None:
        author = self.submitter()
        when = self.clock
        v1 = self._send_series(author, chunk, when, version=1, in_reply_to=[])
        self._reviews(v1, author)
        if reroll or self.rng.random() < 0.3:
            when = self.later(when, 60, cap_hours=14 * 24)
            threaded = reroll == "threaded" if reroll else self.rng.random() < 0.5
            anchor = [v1[0].msgid] if threaded else []
            v2 = self._send_series(author, chunk, when, version=2, in_reply_to=anchor)
            self._reviews(v2, author)
            if self.rng.random() < 0.15:
                when = self.later(when, 48, cap_hours=7 * 24)
                v3 = self._send_series(author, chunk, when, version=3, in_reply_to=[])
                self._reviews(v3, author)

    def _send_series(
        self,
        author: Person,
        chunk: list[Commit],
        when: dt.datetime,
        *,
        version: int,
        in_reply_to: list[str],
    ) -> list[Mail]:
        total = len(chunk)
        prefix = "PATCH" if version == 1 else f"PATCH v{version}"
        cover_letter = (
            total > 1 and self.rng.random() < 0.8 or total == 1 and self.rng.random() < 0.05
        )
        style = self.rng.choices(["shallow", "deep", "none"], weights=[80, 8, 12])[0]
        if in_reply_to and style == "none":
            style = "shallow"
        sent: list[Mail] = []
        root = list(in_reply_to)
        cc = self.rng.sample(self.maintainers, k=self.rng.randint(0, 2))
        changes = ""
        if version > 1:
            changes = "".join(
                f"- {self.rng.choice(['addressed review comments', 'rebased', 'reworded the commit message', 'fixed a typo'])}\n"
                for _ in range(self.rng.randint(1, 3))
            )
        if cover_letter:
            title = self._cover_title(chunk)
            marker = f" 0/{total}" if total > 1 else ""
            cover = self.add(
                when, author, f"[{prefix}{marker}] {title}",
                self._cover_body(chunk, author, version, changes),
                refs=root, cc=cc, extra=["X-Mailer: git-send-email 2.39.5"], is_cover=True,
            )  # fmt: skip
            sent.append(cover)
            if style != "none" or root:
                root = [*root, cover.msgid]
        for number, commit in enumerate(chunk, start=1):
            marker = f" {number}/{total}" if total > 1 else ""
            body = commit.body + ("\n\n" if commit.body else "")
            body += f"Signed-off-by: {author.name} <{author.email}>\n"
            patch = commit.patch
            if changes:
                patch = patch.replace("---\n", f"---\nChanges in v{version}:\n{changes}\n", 1)
            body += patch + "\n-- \n2.39.5\n"
            refs = root if style != "none" else []
            mail = self.add(
                when + dt.timedelta(seconds=number), author,
                f"[{prefix}{marker}] {commit.subject}", body,
                refs=refs, cc=cc, extra=["X-Mailer: git-send-email 2.39.5"],
            )  # fmt: skip
            sent.append(mail)
            if style == "deep" or (style == "shallow" and not cover_letter and number == 1):
                root = [*root, mail.msgid]
        return sent

    def _cover_body(self, chunk: list[Commit], author: Person, version: int, changes: str) -> str:
        """A cover letter as git format-patch --cover-letter writes it, filled in."""
        total = len(chunk)
        lines = [
            f"This series {chunk[0].subject[:1].lower() + chunk[0].subject[1:]}"
            f"{' and more' if total > 1 else ''}.",
            "",
        ]
        if changes:
            lines += [f"Changes in v{version}:", changes]
        lines += [f"{author.name} ({total}):"]
        lines += [f"  {c.subject}" for c in chunk]
        lines += ["", "-- ", "2.39.5"]
        return "\n".join(lines)

    def _cover_title(self, chunk: list[Commit]) -> str:
        words = chunk[0].subject.split(":", 1)[-1].strip()
        return words[:1].upper() + words[1:] if words else "Assorted fixes"

    def _reviews(self, sent: list[Mail], author: Person) -> None:
        for mail in sent:
            if self.rng.random() > (0.35 if mail.is_cover else 0.4):
                continue
            reviewer = self.reviewer(author)
            when = self.later(mail.date, 5)
            quoted = "\n".join("> " + line for line in mail.body.split("\n")[:8])
            text = self.rng.choice(REVIEW_LINES + QUESTIONS)
            trailer = ""
            if text in REVIEW_LINES or self.rng.random() < 0.3:
                trailer = f"\n{self.rng.choice(TRAILERS)}: {reviewer.name} <{reviewer.email}>\n"
            body = f"On {format_datetime(mail.date)}, {author.name} wrote:\n{quoted}\n\n{text}\n{trailer}"
            reply = self.add(
                when, reviewer, "Re: " + mail.subject, body, refs=[*mail.refs, mail.msgid],
            )  # fmt: skip
            if text in QUESTIONS or self.rng.random() < 0.2:
                answer = self.add(
                    self.later(when, 3), author, "Re: " + mail.subject,
                    f"> {text}\n\n{self.rng.choice(ANSWERS)}\n",
                    refs=[*reply.refs, reply.msgid],
                )  # fmt: skip
                if self.rng.random() < 0.3:
                    self.add(
                        self.later(answer.date, 4), reviewer, "Re: " + mail.subject,
                        f"> {answer.body.splitlines()[-1]}\n\nThanks, sounds good.\n\n"
                        f"{self.rng.choice(TRAILERS)}: {reviewer.name} <{reviewer.email}>\n",
                        refs=[*answer.refs, answer.msgid],
                    )  # fmt: skip

    def _pull_request(self, chunk: list[Commit]) -> None:
        maintainer = self.rng.choice(self.maintainers)
        base, head = chunk[0].sha, chunk[-1].sha
        day = self.clock.strftime("%Y-%m-%d")
        branch = f"tags/for-next-{self.clock.strftime('%Y%m%d')}-{self.counter}"
        shortlog = "\n".join(f"      {c.subject}" for c in chunk)
        body = (
            "Hi,\n\nplease pull the following changes for the next release.\n\n"
            f"The following changes since commit {base}:\n\n  {chunk[0].subject} ({day})\n\n"
            "are available in the Git repository at:\n\n"
            f"  https://git.example.org/pub/scm/project.git {branch}\n\n"
            f"for you to fetch changes up to {head}:\n\n  {chunk[-1].subject} ({day})\n\n"
            + "-"
            * 64
            + "\n"
            f"{len(chunk)} fixes and cleanups for this cycle.\n\n" + "-" * 64 + "\n"
            f"{maintainer.name} ({len(chunk)}):\n{shortlog}\n\n-- \n{maintainer.name.split()[0]}\n"
        )
        pull = self.add(self.clock, maintainer, f"[GIT PULL] Fixes for {day}", body)
        if self.rng.random() < 0.5:
            self.add(
                self.later(self.clock, 10), self.rng.choice(self.people), "Re: " + pull.subject,
                "> please pull the following changes for the next release.\n\nPulled, thanks.\n",
                refs=[pull.msgid],
            )  # fmt: skip

    def _discussion(self) -> None:
        starter = self.submitter()
        topic = self.rng.choice(TOPICS)
        first = self.add(
            self.clock + dt.timedelta(minutes=3), starter, topic,
            "Hi all,\n\nI'd like to hear your thoughts on this before we go ahead.\n\nThanks,\n"
            + starter.name.split()[0] + "\n",
        )  # fmt: skip
        parent = first
        for _ in range(self.rng.randint(0, 5)):
            who = self.rng.choice(self.people)
            parent = self.add(
                self.later(parent.date, 6), who, "Re: " + topic,
                f"> {parent.body.splitlines()[0]}\n\n{self.rng.choice(REVIEW_LINES + ANSWERS)}\n",
                refs=[*parent.refs, parent.msgid],
            )  # fmt: skip

    def _ignored_mail(self) -> None:
        who = self.submitter()
        self.add(
            self.clock + dt.timedelta(hours=1), who, "[PATCH] scratch: do not track this",
            "A throw-away experiment.\n\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            extra=["X-Patchwork-Hint: ignore"],
        )  # fmt: skip


def deliver(mails: list[Mail], rng: random.Random, window: dt.timedelta) -> list[Mail]:
    """Delivery order: each mail arrives up to `window` after it was sent, so close mail reorders."""
    seconds = window.total_seconds()
    for mail in mails:
        mail.delivered = mail.date + dt.timedelta(seconds=rng.uniform(0, seconds))
    return sorted(mails, key=lambda m: (m.delivered, m.msgid))


def envelope(when: dt.datetime) -> bytes:
    return (
        f"From MAILER-DAEMON {when.astimezone(dt.UTC).strftime('%a %b %d %H:%M:%S %Y')}\n".encode()
    )


def write_mbox(path: Path, messages: Iterable[tuple[dt.datetime, bytes]]) -> int:
    """Write (date, raw message) pairs as an mbox; returns how many."""
    count = 0
    with open(path, "wb") as out:
        for when, raw in messages:
            out.write(envelope(when))
            out.write(raw if raw.endswith(b"\n") else raw + b"\n")
            out.write(b"\n")
            count += 1
    return count


def generate(
    repo: Path = DEFAULT_REPO,
    *,
    seed: int = 1,
    rounds: int = 1,
    max_commits: int = 2000,
    list_id: str = DEFAULT_LIST_ID,
    list_addr: str = DEFAULT_LIST,
    window: dt.timedelta = DELIVERY_WINDOW,
) -> list[tuple[dt.datetime, bytes]]:
    """The list archive for a repository's history: (delivery date, raw message), in order."""
    commits = read_commits(repo, max_commits)
    sim = ListSimulator(commits, seed)
    mails = deliver(sim.run(rounds), random.Random(seed + 1), window)
    return [(m.delivered, m.to_bytes(list_id, list_addr)) for m in mails]


# --- multiplying ---------------------------------------------------------------------------

_ID_HEADER_RE = re.compile(rb"^(message-id|in-reply-to|references):", re.IGNORECASE)
_ANGLE_RE = re.compile(rb"<([^<>@\s]+)@([^<>\s]+)>")
_DATE_RE = re.compile(rb"^date:[ \t]*(.*)$", re.IGNORECASE)


def iter_messages(path: Path) -> Iterator[bytes]:
    """Each message of an mbox (without its 'From ' line), read line by line."""
    with open(path, "rb") as fh:
        lines: list[bytes] = []
        previous_blank = True
        for line in fh:
            if previous_blank and line.startswith(b"From "):
                if lines:
                    yield _join(lines)
                lines, previous_blank = [], False
                continue
            lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
        if lines:
            yield _join(lines)


def _join(lines: list[bytes]) -> bytes:
    # The blank line before the next "From " belongs to the mbox, not to the message.
    if lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return b"".join(lines)


def rewrite(raw: bytes, copy: int, shift: dt.timedelta) -> tuple[bytes, dt.datetime | None]:
    """The message with Message-IDs made unique to `copy` and its Date moved by `shift`."""
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    out, in_ids, date = [], False, None
    suffix = f".x{copy}".encode()
    for line in lines:
        continuation = line[:1] in (b" ", b"\t")
        if not continuation:
            in_ids = bool(_ID_HEADER_RE.match(line))
            match = _DATE_RE.match(line)
            if match:
                try:
                    date = parsedate_to_datetime(match.group(1).decode("ascii", "replace").strip())
                    if date.tzinfo is None:
                        date = date.replace(tzinfo=dt.UTC)
                    date += shift
                    line = b"Date: " + format_datetime(date).encode()
                except (TypeError, ValueError, IndexError, OverflowError):
                    date = None
        if in_ids and copy:
            line = _ANGLE_RE.sub(
                lambda m: b"<" + m.group(1) + suffix + b"@" + m.group(2) + b">", line
            )
        out.append(line)
    return b"\n".join(out) + sep + body, date


def archive_span(path: Path) -> tuple[int, dt.timedelta]:
    """How many messages, and the time from the earliest to the latest Date."""
    count, low, high = 0, None, None
    for raw in iter_messages(path):
        count += 1
        _, date = rewrite(raw, 0, dt.timedelta(0))
        if date is not None:
            low = date if low is None or date < low else low
            high = date if high is None or date > high else high
    return count, (high - low) if low and high else dt.timedelta(0)


def multiply(source: Path, target: Path, messages: int) -> int:
    """Write `messages` messages: copies of source with new Message-IDs and later dates."""
    count, span = archive_span(source)
    if count == 0:
        raise SystemExit(f"{source}: no messages")
    shift_per_copy = span + dt.timedelta(days=1)

    def stream() -> Iterator[tuple[dt.datetime, bytes]]:
        written, copy = 0, 0
        while written < messages:
            shift = shift_per_copy * copy
            for raw in iter_messages(source):
                new, date = rewrite(raw, copy, shift)
                yield date or START + shift, new
                written += 1
                if written >= messages:
                    return
            copy += 1

    return write_mbox(target, stream())


# --- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.corpus", description=__doc__.split("\n\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="a list archive from a git repository's history")
    gen.add_argument(
        "--repo", type=Path, default=DEFAULT_REPO, help="git repository (default: this one)"
    )
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--rounds", type=int, default=1, help="send the history this many times")
    gen.add_argument("--max-commits", type=int, default=2000)
    gen.add_argument("--list-id", default=DEFAULT_LIST_ID)
    gen.add_argument("--list-address", default=DEFAULT_LIST)
    gen.add_argument("-o", "--output", type=Path, required=True)
    mul = sub.add_parser("multiply", help="copies of an archive with new Message-IDs")
    mul.add_argument("source", type=Path)
    mul.add_argument("--messages", type=int, required=True)
    mul.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "generate":
        archive = generate(
            args.repo,
            seed=args.seed,
            rounds=args.rounds,
            max_commits=args.max_commits,
            list_id=args.list_id,
            list_addr=args.list_address,
        )
        count = write_mbox(args.output, archive)
    else:
        count = multiply(args.source, args.output, args.messages)
    print(f"{args.output}: {count} messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(DEFAULT_REPO))
    raise SystemExit(main())
