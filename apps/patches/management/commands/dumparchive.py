"""manage.py dumparchive: every patch of a project (or of all projects) as mbox files in a tar."""

from __future__ import annotations

import re
import tarfile
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Literal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from apps.patches.mbox import patches_mbox_chunks
from apps.patches.models import Patch
from apps.projects.models import Project

# tarfile's write mode and the file name's suffix.
COMPRESSIONS: dict[str, tuple[Literal["w", "w:gz", "w:bz2", "w:xz"], str]] = {
    "none": ("w", ""),
    "gz": ("w:gz", ".gz"),
    "bz2": ("w:bz2", ".bz2"),
    "xz": ("w:xz", ".xz"),
}
# The line that starts each message of our mbox (see apps/patches/mbox.py).
SEPARATOR_RE = re.compile(rb"^From patchwork \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r?\n$")
FROM_RE = re.compile(rb"^>*From ")


def quote_from_lines(chunks, out) -> None:
    """Write mbox text, quoting body lines that start with "From " (mboxrd: one more '>').

    Without this, a commit message line starting with "From " would split the patch in two
    for whoever reads the archive.
    """
    previous_blank = True
    partial = b""  # chunks may end mid-line (long diffs are sent in slices)
    for chunk in chunks:
        lines = (partial + chunk.encode("utf-8", "surrogateescape")).splitlines(keepends=True)
        partial = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        for line in lines:
            previous_blank = _quoted_line(line, previous_blank, out)
    if partial:
        _quoted_line(partial, previous_blank, out)


def _quoted_line(line: bytes, previous_blank: bool, out) -> bool:
    """Write one line, quoted if it would start a message; whether it was blank."""
    if FROM_RE.match(line) and not (previous_blank and SEPARATOR_RE.match(line)):
        line = b">" + line
    out.write(line)
    return line in (b"\n", b"\r\n")


class Command(BaseCommand):
    help = (
        "Export the patches of the given projects (default: all) as a tar archive holding one "
        "mbox file per project, <linkname>.mbox, which parsearchive can load again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "projects", nargs="*", metavar="PROJECT", help="linkname or list id (default: all)"
        )
        parser.add_argument(
            "-c",
            "--compress",
            nargs="?",
            const="gz",
            default="none",
            choices=sorted(COMPRESSIONS),
            help="compress the archive (gz when given without a value)",
        )
        parser.add_argument(
            "-o",
            "--output",
            help="archive file (default: patchwork_dump_YYYY_MM_DD.tar[.gz] here)",
        )

    def handle(self, *args, projects: list[str], compress: str, output: str | None, **options):
        selected = self._projects(projects)
        mode, suffix = COMPRESSIONS[compress]
        if output is None:
            output = f"patchwork_dump_{date.today():%Y_%m_%d}.tar{suffix}"
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a directory")
        # Written aside and renamed when complete: a failed run leaves no half archive.
        partial = path.with_name(path.name + ".part")
        started = time.monotonic()
        total = 0
        try:
            with tarfile.open(partial, mode=mode) as archive:
                for project in selected:
                    count = self._add_project(archive, project)
                    total += count
                    self.stderr.write(f"{project.linkname}: {count} patches")
            partial.replace(path)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        seconds = time.monotonic() - started
        self.stderr.write(
            f"wrote {path}: {len(selected)} projects, {total} patches ({seconds:.1f}s)"
        )

    def _projects(self, names: list[str]) -> list[Project]:
        if not names:
            return list(Project.objects.order_by("linkname"))
        found = []
        for name in names:
            project = Project.objects.filter(Q(linkname=name) | Q(listid=name)).first()
            if project is None:
                raise CommandError(f"no project with linkname or list id {name!r}")
            found.append(project)
        return found

    def _add_project(self, archive: tarfile.TarFile, project: Project) -> int:
        ids = list(
            Patch.objects.filter(project=project)
            .order_by("date", "id")
            .values_list("id", flat=True)
        )
        # A tar member needs its size first: spool the mbox to a temporary file.
        with tempfile.TemporaryFile() as mbox:
            quote_from_lines(patches_mbox_chunks(ids), mbox)
            info = tarfile.TarInfo(f"{project.linkname}.mbox")
            info.size = mbox.tell()
            info.mtime = int(time.time())
            info.mode = 0o644
            mbox.seek(0)
            archive.addfile(info, mbox)
        return len(ids)
