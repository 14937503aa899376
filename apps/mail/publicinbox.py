"""public-inbox repositories (what lore.kernel.org mirrors are made of), read with git itself.

A v1 inbox is one bare git repository; a v2 inbox is a directory with ``all.git``
and its epochs ``git/0.git``, ``git/1.git``…, each a bare repository. Every commit
of a v2 inbox's branch adds one message as the blob ``m`` (a commit removing a message
holds ``d`` instead, and is skipped); a v1 commit adds it under the SHA-1 of its
Message-ID (``ab/cdef…``). Messages are read oldest first with ``git log --raw``
and ``git cat-file --batch``, and ingested through the durable intake in
batches; after each batch the last commit done is stored (InboxCursor), so a run
that stops resumes after it and a later run (``follow-inbox``) reads only what was
fetched since. A message already stored, from this inbox or any other way, is
skipped (by Message-ID).
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from apps.mail.archive import asynchronous_commits, stream_ingest
from apps.mail.batch import BATCH
from apps.mail.context import IngestContext
from apps.mail.models import InboxCursor
from apps.mail.parallel import parsed_stream
from apps.series.revisions import revisions_supersede_due

EPOCH_RE = re.compile(r"^(\d+)\.git$")
HASH_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
V1_PATH_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{38}$")
GIT_TIMEOUT = 600


class NotAnInbox(ValueError):
    """The path is not a public-inbox repository."""


def _is_bare_repo(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _is_v2(path: Path) -> bool:
    return (path / "all.git").is_dir() or (path / "git").is_dir()


def is_public_inbox(path: Path) -> bool:
    return _is_v2(path) or _is_bare_repo(path)


def inbox_repositories(path: str | Path) -> list[Path]:
    """The git repositories of an inbox, oldest first: itself (v1) or its epochs (v2; none
    before its first message)."""
    path = Path(path).resolve()
    if _is_v2(path):
        epochs_dir = path / "git"
        epochs = [
            (int(m.group(1)), child)
            for child in (epochs_dir.iterdir() if epochs_dir.is_dir() else [])
            if (m := EPOCH_RE.match(child.name)) and _is_bare_repo(child)
        ]
        return [child for _, child in sorted(epochs)]
    if _is_bare_repo(path):
        return [path]
    raise NotAnInbox(f"{path} is not a public-inbox repository (v1 or v2)")


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args],
        input=stdin,
        capture_output=True,
        check=True,
        timeout=GIT_TIMEOUT,
    ).stdout


def _head(repo: Path) -> str | None:
    """The commit the inbox's branch points at (None while it is empty)."""
    try:
        return _git(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}").decode().strip()
    except subprocess.CalledProcessError:
        return None


def _log(repo: Path, spec: str) -> str:
    # Each commit's hash, then the blobs it added or changed (--raw, full hashes).
    return _git(
        repo, "log", "--reverse", "--no-renames", "--raw", "--no-abbrev", "--format=%H", spec
    ).decode()


def new_messages(repo: Path, since: str | None) -> list[tuple[str, str | None]]:
    """(commit, blob of the message it added) after since (all without), oldest first;
    blob None for a commit that adds no message (a removal)."""
    head = _head(repo)
    if head is None or head == since:
        return []
    try:
        out = _log(repo, f"{since}..{head}" if since else head)
    except subprocess.CalledProcessError:
        # The stored commit is gone (the inbox's history was rewritten by a purge):
        # read it all again; what is already stored is skipped by Message-ID.
        out = _log(repo, head)
    found: list[tuple[str, str | None]] = []
    for line in out.splitlines():
        if HASH_RE.match(line):
            found.append((line, None))
        elif line.startswith(":") and found:
            meta, _, path = line.partition("\t")
            status, blob = meta.split()[-1], meta.split()[3]
            # v2 keeps the message in "m" ("d" for a removal); v1 under the hash of its
            # Message-ID (ab/cdef…).
            if status in ("A", "M") and (path == "m" or V1_PATH_RE.match(path)):
                found[-1] = (found[-1][0], blob)
    return found


def read_blobs(repo: Path, blobs: list[str]) -> list[bytes]:
    """The contents of blobs, in order (one git cat-file --batch)."""
    if not blobs:
        return []
    out = _git(repo, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in blobs).encode())
    contents = []
    position = 0
    for _ in blobs:
        end = out.index(b"\n", position)
        size = int(out[position:end].split()[2])
        position = end + 1
        contents.append(out[position : position + size])
        position += size + 1  # the blob and the newline after it
    return contents


def _inbox_messages(
    repo: Path, commits: list[tuple[str, str | None]], summary: Counter
) -> Iterator[tuple[bytes, str]]:
    """(message, commit) of each commit that adds one, oldest first, read BATCH at a time."""
    for start in range(0, len(commits), BATCH):
        chunk = commits[start : start + BATCH]
        added = [(commit, blob) for commit, blob in chunk if blob is not None]
        summary["removed"] += len(chunk) - len(added)
        contents = read_blobs(repo, [blob for _, blob in added])
        yield from zip(contents, [commit for commit, _ in added], strict=True)


def _ingest_repository(
    repo: Path, *, list_id: str, summary: Counter, context: IngestContext
) -> None:
    cursor = InboxCursor.objects.filter(repository=str(repo)).first()
    commits = new_messages(repo, cursor.last_commit if cursor else None)
    if not commits:
        return

    def done(batch: list[str]) -> None:
        # The batch is committed: a run that stops resumes after its last commit.
        InboxCursor.objects.update_or_create(
            repository=str(repo), defaults={"last_commit": batch[-1]}
        )

    stream_ingest(
        parsed_stream(_inbox_messages(repo, commits, summary)),
        list_id=list_id,
        context=context,
        summary=summary,
        done=done,
    )
    # The last commits may remove messages only: the next run starts after them too.
    done([commits[-1][0]])


def inbox_ingest(path: str | Path, *, list_id: str = "", settle: bool = False) -> Counter:
    """Ingest what an inbox received since the last run (everything, the first time).

    With settle (a whole archive loaded at once), the reroll matches by name wait for
    nothing more; following a live inbox, their grace period runs as for mail.
    Returns counts: patches, covers, comments, ignored, failed, skipped, removed.
    """
    summary: Counter = Counter()
    context = IngestContext()
    with asynchronous_commits():
        for repo in inbox_repositories(path):
            _ingest_repository(repo, list_id=list_id, summary=summary, context=context)
    if settle:
        revisions_supersede_due()
    return summary
