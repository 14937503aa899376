"""The Patchwork patch hash: SHA-1 over a normalised diff.

Compatible with every Patchwork, so pwclient hash look-ups and git hooks agree.
tools/pwhash carries the same algorithm without Django; tests check they agree.
"""

from __future__ import annotations

import hashlib
import re

_FILENAME_RE = re.compile(r"^(---|\+\+\+) (\S+)")
_HUNK_RE = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


def hash_diff(diff: str) -> str:
    """The hex SHA-1 of the diff's file names, hunk line counts and changed/context lines."""
    digest = hashlib.sha1()
    text = diff.replace("\r", "").strip() + "\n"
    for line in text.split("\n"):
        if not line:
            continue
        filename = _FILENAME_RE.match(line)
        hunk = _HUNK_RE.match(line) if not filename else None
        if filename:
            # Drop the first path component (a/, b/, the tree name...) so -p1 diffs agree.
            side = "a/" if filename.group(1) == "---" else "b/"
            rest = "/".join(filename.group(2).split("/")[1:])
            line = f"{filename.group(1)} {side}{rest}"
        elif hunk:
            # Line numbers move when other patches land; the counts do not.
            old, new = (int(count) if count else 1 for count in hunk.groups())
            line = f"@@ -{old} +{new} @@"
        elif line[0] not in "-+ ":
            continue
        digest.update((line + "\n").encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
