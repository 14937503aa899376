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
- ``bundle_to_mbox(bundle)`` / ``bundle_mbox_chunks(bundle)``: a bundle's
  patches in bundle order.
- ``patches_mbox_chunks(patch_ids)``: any list of patches, in the given order,
  streamed in batches (bulk downloads, exports).
- ``patch_filename``, ``cover_filename``, ``bundle_filename``: download file
  names (``Content-Disposition``).

A series as mbox: apps/series/mbox.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC
from email.header import Header
from email.utils import format_datetime, formataddr

from django.db.models import Case, F, TextField, Value, When
from django.db.models.functions import Length, Substr

from apps.patches.cover_review import cover_trailers_by_patch
from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.patches.selectors import parse_headers

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
# Bounds what one download holds in memory. One 49 MB patch served to 10 clients
# at once took daphne from 340 MB to 1.6 GB when each response held the diff whole
# several times over (loaded, copied into the body, joined, encoded: 154 MB of
# Python allocations each). A diff longer than DIFF_SLICE characters is read from
# the database a slice at a time, and everything is sent in pieces of at most
# CHUNK_SIZE characters: 49 MB now peaks at ~20 MB. Slices cost a query each, and
# on PostgreSQL (UTF-8) each one decompresses the whole value (~1 s for 49 MB),
# hence slices this large: such diffs are rare.
DIFF_SLICE = 8 << 20
CHUNK_SIZE = 1 << 18
FILENAME_RE = re.compile(r"[^-_A-Za-z0-9\.]+")


class SeriesMismatch(ValueError):
    """A ``series`` download parameter that is not '*' or the patch's series id."""


# --- file names ------------------------------------------------------------------------


def slug(name: str) -> str:
    """A name as a file name."""
    return FILENAME_RE.sub("-", name or "").strip("-") or "patch"


def patch_filename(patch: Patch, *, raw: bool = False) -> str:
    return slug(patch.name) + (".diff" if raw else ".patch")


def cover_filename(cover: Cover) -> str:
    return slug(cover.name) + ".mbox"


def bundle_filename(bundle: Bundle) -> str:
    return f"bundle-{bundle.pk}-{slug(bundle.name)}.mbox"


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


def _patch_body(patch: Patch, trailers: Iterable[str]) -> tuple[str, bool]:
    """(the commit message with the trailers and the notes after '---', whether notes are).

    The diff follows: after the notes, or after a '---' line of its own.
    """
    body, postscript = commit_message(patch.content, trailers)
    if postscript:
        body += "---\n" + postscript + "\n"
    return body, bool(postscript)


def _diff_slices(patch_id: int, length: int) -> Iterator[str]:
    """A long diff read from the database DIFF_SLICE characters at a time."""
    rows = Patch.objects.filter(pk=patch_id)
    for start in range(1, length + 1, DIFF_SLICE):
        part = rows.annotate(part=Substr("diff", start, DIFF_SLICE)).values_list("part", flat=True)
        yield part.first() or ""


def patch_diff_chunks(patch: Patch) -> Iterator[str]:
    """The diff of a patch from _patches_qs() in pieces of at most CHUNK_SIZE characters."""
    if patch.short_diff is not None:
        slices: Iterable[str] = [patch.short_diff] if patch.short_diff else []
    else:
        slices = _diff_slices(patch.pk, patch.diff_length or 0)
    for text in slices:
        for start in range(0, len(text), CHUNK_SIZE):
            yield text[start : start + CHUNK_SIZE]


def _patch_message(patch: Patch, trailers: Iterable[str]) -> Iterator[str]:
    body, has_postscript = _patch_body(patch, trailers)
    yield _message(patch, body=body, is_patch=True)
    if not patch.diff_length:
        return
    yield "\n" if has_postscript else "---\n"
    last = ""
    for chunk in patch_diff_chunks(patch):
        last = chunk
        yield chunk
    if not last.endswith("\n"):
        yield "\n"


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


def _render_patches(patches: list[Patch]) -> Iterator[str]:
    """The patches as one mbox (messages separated by a blank line), piece by piece."""
    trailers = trailers_by_patch([p.pk for p in patches])
    for n, patch in enumerate(patches):
        if n:
            yield "\n"
        yield from _patch_message(patch, trailers.get(patch.pk, []))


# Between batches of patches: send what is buffered, so each batch's queries run
# just before its chunk is sent.
_FLUSH = object()


def _coalesced(pieces: Iterable) -> Iterator[str]:
    """Small pieces joined up to CHUNK_SIZE characters; big ones (diff slices) alone."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        if size and (piece is _FLUSH or size + len(piece) > CHUNK_SIZE):
            yield "".join(buffer)
            buffer, size = [], 0
        if piece is not _FLUSH:
            buffer.append(piece)
            size += len(piece)
    if buffer:
        yield "".join(buffer)


def _patches_qs():
    # The diff itself only when short: long ones are read in slices (patch_diff_chunks).
    return (
        Patch.objects.select_related("submitter", "delegate")
        .defer("diff")
        .annotate(
            diff_length=Length("diff"),
            short_diff=Case(
                When(diff_length__lte=DIFF_SLICE, then=F("diff")),
                default=Value(None),
                output_field=TextField(),
            ),
        )
    )


def patch_for_download(**lookup) -> Patch | None:
    """A patch loaded for its mbox or diff download (the diff read later, in slices)."""
    return _patches_qs().select_related("project").filter(**lookup).first()


# --- public --------------------------------------------------------------------------------


def patch_mbox_chunks(patch: Patch, *, series_deps: str | int | None = None) -> Iterator[str]:
    """A patch as an mbox message; with series_deps, preceded by its series' earlier patches."""
    ids = [patch.pk]
    if series_deps not in (None, ""):
        if str(series_deps) != "*" and str(series_deps) != str(patch.series_id):
            raise SeriesMismatch(f"Patch {patch.pk} is not in series {series_deps!r}.")
        if patch.series_id and patch.number is not None:
            earlier = Patch.objects.filter(series_id=patch.series_id, number__lt=patch.number)
            ids = [*earlier.order_by("number", "date", "id").values_list("id", flat=True), patch.pk]
    return patches_mbox_chunks(ids)


def patch_to_mbox(patch: Patch, *, series_deps: str | int | None = None) -> str:
    return "".join(patch_mbox_chunks(patch, series_deps=series_deps))


def cover_to_mbox(cover: Cover) -> str:
    """A cover letter as an mbox message."""
    content = (cover.content or "").strip()
    return _message(cover, body=content + "\n" if content else "", is_patch=False)


def comment_to_mbox(comment: PatchComment | CoverComment) -> str:
    """A comment as an mbox message, as it was sent (no trailers added)."""
    content = (comment.content or "").strip()
    return _message(comment, body=content + "\n" if content else "", is_patch=False)


def patches_mbox_chunks(patch_ids: Iterable[int]) -> Iterator[str]:
    """The patches (in the given order) as an mbox, in chunks of bounded size.

    Patches are loaded BATCH_SIZE at a time; a chunk holds at most CHUNK_SIZE
    characters of small pieces or one slice of a long diff.
    """
    return _coalesced(_patches_pieces(list(patch_ids)))


def _patches_pieces(ids: list[int]) -> Iterator:
    first = True
    for start in range(0, len(ids), BATCH_SIZE):
        yield _FLUSH  # before this batch's queries
        batch = ids[start : start + BATCH_SIZE]
        found = _patches_qs().in_bulk(batch)
        patches = [found[pk] for pk in batch if pk in found]
        if not patches:
            continue
        if not first:
            yield "\n"
        first = False
        yield from _render_patches(patches)


def bundle_patch_ids(bundle: Bundle) -> list[int]:
    return list(bundle.bundlepatches.order_by("order").values_list("patch_id", flat=True))


def bundle_mbox_chunks(bundle: Bundle) -> Iterator[str]:
    """A bundle's patches in bundle order, streamed."""
    return patches_mbox_chunks(bundle_patch_ids(bundle))


def bundle_to_mbox(bundle: Bundle) -> str:
    return "".join(bundle_mbox_chunks(bundle))
