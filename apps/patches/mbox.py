"""Submissions as mbox text: what ``git am`` applies.

Each message starts with ``From patchwork <ctime>``, keeps the original headers
(Message-Id, Subject, Date, References…), has the submitter as ``From``, then
the commit message with the trailers reviewers gave in comments (Acked-by,
Reviewed-by, Tested-by…) appended, ``---``, and the diff. Messages of a
multi-patch mbox are separated by a blank line.

Public functions:

- ``patch_to_mbox(patch, series_deps=None)``: one patch; ``series_deps="*"``
  (or the series id) prepends the patches before it in its series, as
  ``git pw patch apply`` asks with ``?series=*``.
- ``cover_to_mbox(cover)``: a cover letter (no diff).
- ``series_to_mbox(series)`` / ``series_mbox_chunks(series)``: a series' patches
  in series order, whole or as a stream of chunks.
- ``bundle_to_mbox(bundle)`` / ``bundle_mbox_chunks(bundle)``: a bundle's
  patches in bundle order.
- ``patches_mbox_chunks(patch_ids)``: any list of patches, in the given order,
  streamed in batches (bulk downloads, exports).
- ``patch_filename``, ``cover_filename``, ``series_filename``,
  ``bundle_filename``: download file names (``Content-Disposition``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC
from email.header import Header
from email.utils import format_datetime, formataddr

from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.patches.selectors import parse_headers
from apps.series.cover_review import cover_trailers_by_patch
from apps.series.models import Series

# Trailers a reviewer's reply adds to the commit when the patch is applied.
TRAILER_RE = re.compile(
    r"^(Tested|Reviewed|Acked|Signed-off|Nacked|Reported)-by:\s*\S.*$", re.MULTILINE | re.IGNORECASE
)
# Where the commit message ends and the notes after '---' begin.
POSTSCRIPT_RE = re.compile(r"\n-{2,3} ?\n")
# Headers the mbox sets itself rather than copying from the original mail.
OWN_HEADERS = {
    "from",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "x-patchwork-submitter",
    "x-patchwork-id",
    "x-patchwork-delegate",
}
BATCH_SIZE = 50
FILENAME_RE = re.compile(r"[^-_A-Za-z0-9\.]+")


class SeriesMismatch(ValueError):
    """A ``series`` download parameter that is not '*' or the patch's series id."""


# --- file names ------------------------------------------------------------------------


def _slug(name: str) -> str:
    return FILENAME_RE.sub("-", name or "").strip("-") or "patch"


def patch_filename(patch: Patch, *, raw: bool = False) -> str:
    return _slug(patch.name) + (".diff" if raw else ".patch")


def cover_filename(cover: Cover) -> str:
    return _slug(cover.name) + ".mbox"


def series_filename(series: Series) -> str:
    return _slug(series.name or f"series-{series.pk}") + ".patch"


def bundle_filename(bundle: Bundle) -> str:
    return f"bundle-{bundle.pk}-{_slug(bundle.name)}.mbox"


# --- one message -------------------------------------------------------------------------


def comment_trailers(content: str) -> list[str]:
    """The trailer lines (Acked-by: …) of a comment."""
    return [match.group(0).strip() for match in TRAILER_RE.finditer(content or "")]


def _header_line(name: str, value: str) -> str:
    if value.isascii():
        return f"{name}: {value}\n"
    return f"{name}: {Header(value, 'utf-8', header_name=name).encode()}\n"


def _person_address(person) -> str:
    return formataddr((person.name, person.email), charset="utf-8")


def _message(submission, *, body: str, is_patch: bool) -> str:
    date = submission.date.astimezone(UTC)
    lines = [f"From patchwork {date.replace(tzinfo=None).ctime()}\n"]
    original = parse_headers(submission.headers)
    present = {name.lower() for name in original}
    for name, values in original.items():
        if name.lower() in OWN_HEADERS:
            continue
        for value in values if isinstance(values, list) else [values]:
            lines.append(_header_line(name, value))
    if "message-id" not in present:
        lines.append(_header_line("Message-Id", submission.msgid))
    if "subject" not in present:
        lines.append(_header_line("Subject", getattr(submission, "name", "")))
    if "date" not in present:
        lines.append(f"Date: {format_datetime(date)}\n")
    lines.append(f"From: {_person_address(submission.submitter)}\n")
    lines.append(f"X-Patchwork-Submitter: {_person_address(submission.submitter)}\n")
    lines.append(f"X-Patchwork-Id: {submission.pk}\n")
    if is_patch and submission.delegate_id:
        lines.append(f"X-Patchwork-Delegate: {submission.delegate.email}\n")
    lines.append("MIME-Version: 1.0\n")
    lines.append('Content-Type: text/plain; charset="utf-8"\n')
    lines.append("Content-Transfer-Encoding: 8bit\n")
    lines.append("\n")
    lines.append(body)
    return "".join(lines)


def commit_message(content: str, trailers: Iterable[str]) -> tuple[str, str]:
    """A patch's commit message with the trailers it lacks appended, and its notes after '---'."""
    content = (content or "").strip()
    body = content + "\n" if content else ""
    parts = POSTSCRIPT_RE.split(body, maxsplit=1)
    postscript = ""
    if len(parts) == 2:
        body = parts[0].strip() + "\n"
        postscript = parts[1].rstrip()
    given = {line.strip().lower() for line in body.splitlines()}
    for trailer in trailers:
        if trailer.lower() not in given:
            given.add(trailer.lower())
            body += trailer + "\n"
    return body, postscript


def _patch_body(patch: Patch, trailers: Iterable[str]) -> str:
    body, postscript = commit_message(patch.content, trailers)
    if postscript:
        body += "---\n" + postscript + "\n"
    if patch.diff:
        diff = patch.diff if patch.diff.endswith("\n") else patch.diff + "\n"
        body += ("\n" if postscript else "---\n") + diff
    return body


def trailers_by_patch(patch_ids: list[int]) -> dict[int, list[str]]:
    """The trailers reviewers gave each patch (in replies to it or to its cover letter)."""
    found: dict[int, list[str]] = defaultdict(list)
    comments = (
        PatchComment.objects.filter(patch_id__in=patch_ids)
        .order_by("date", "id")
        .values_list("patch_id", "content")
    )
    for patch_id, content in comments:
        found[patch_id].extend(comment_trailers(content))
    for patch_id, lines in cover_trailers_by_patch(patch_ids, comment_trailers).items():
        found[patch_id].extend(lines)
    return found


def _render_patches(patches: list[Patch]) -> list[str]:
    trailers = trailers_by_patch([p.pk for p in patches])
    return [
        _message(p, body=_patch_body(p, trailers.get(p.pk, [])), is_patch=True) for p in patches
    ]


def _patches_qs():
    return Patch.objects.select_related("submitter", "delegate")


# --- public --------------------------------------------------------------------------------


def patch_to_mbox(patch: Patch, *, series_deps: str | int | None = None) -> str:
    """A patch as an mbox message; with series_deps, preceded by its series' earlier patches."""
    patches = [patch]
    if series_deps not in (None, ""):
        if str(series_deps) != "*" and str(series_deps) != str(patch.series_id):
            raise SeriesMismatch(f"Patch {patch.pk} is not in series {series_deps!r}.")
        if patch.series_id and patch.number is not None:
            earlier = _patches_qs().filter(series_id=patch.series_id, number__lt=patch.number)
            patches = [*earlier.order_by("number", "date", "id"), patch]
    return "\n".join(_render_patches(patches))


def cover_to_mbox(cover: Cover) -> str:
    """A cover letter as an mbox message."""
    content = (cover.content or "").strip()
    return _message(cover, body=content + "\n" if content else "", is_patch=False)


def comment_to_mbox(comment: PatchComment | CoverComment) -> str:
    """A comment as an mbox message, as it was sent (no trailers added)."""
    content = (comment.content or "").strip()
    return _message(comment, body=content + "\n" if content else "", is_patch=False)


def patches_mbox_chunks(patch_ids: Iterable[int]) -> Iterator[str]:
    """The patches (in the given order) as an mbox, in chunks of a few dozen messages."""
    ids = list(patch_ids)
    first = True
    for start in range(0, len(ids), BATCH_SIZE):
        batch = ids[start : start + BATCH_SIZE]
        found = _patches_qs().in_bulk(batch)
        messages = _render_patches([found[pk] for pk in batch if pk in found])
        if not messages:
            continue
        yield ("" if first else "\n") + "\n".join(messages)
        first = False


def series_patch_ids(series: Series) -> list[int]:
    return list(series.patches.order_by("number", "date", "id").values_list("id", flat=True))


def series_mbox_chunks(series: Series) -> Iterator[str]:
    """A series' patches in series order, streamed."""
    return patches_mbox_chunks(series_patch_ids(series))


def series_to_mbox(series: Series) -> str:
    return "".join(series_mbox_chunks(series))


def bundle_patch_ids(bundle: Bundle) -> list[int]:
    return list(bundle.bundlepatches.order_by("order").values_list("patch_id", flat=True))


def bundle_mbox_chunks(bundle: Bundle) -> Iterator[str]:
    """A bundle's patches in bundle order, streamed."""
    return patches_mbox_chunks(bundle_patch_ids(bundle))


def bundle_to_mbox(bundle: Bundle) -> str:
    return "".join(bundle_mbox_chunks(bundle))
