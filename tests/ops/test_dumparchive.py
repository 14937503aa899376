"""manage.py dumparchive: projects' patches as mbox files in a tar, which parsearchive reloads."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.patches.models import Patch
from apps.patches.services import patch_update
from tests.factories import default_state, make_patch, make_person, make_project

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data" / "mail"
# Real mail: git format-patch series (v1, v2 with cover letters), plain unified diffs,
# CRLF, attachments, encodings, quoted-printable and base64 bodies.
MAILS = sorted(
    [
        *(DATA / "git" / "v1").glob("*.eml"),
        *(DATA / "git" / "v2").glob("*.eml"),
        *(DATA / "git" / "deep").glob("*.eml"),
        *(DATA / "diff").glob("*.eml"),
        *(DATA / "encoding").glob("*.eml"),
    ]
)
FIELDS = ("msgid", "name", "date", "diff", "content", "hash", "number", "pull_url")


def write_mbox(paths: list[Path], target: Path) -> Path:
    with open(target, "wb") as mbox:
        for path in paths:
            raw = path.read_bytes().replace(b"\r\n", b"\n")
            mbox.write(b"From mailer@example.org Fri Mar  1 10:00:00 2024\n")
            mbox.write(raw if raw.endswith(b"\n") else raw + b"\n")
            mbox.write(b"\n")
    return target


def load(path: Path, list_id: str) -> str:
    out = io.StringIO()
    call_command("parsearchive", str(path), "--list-id", list_id, "--no-progress", stdout=out)
    return out.getvalue()


def commit_message(content: str) -> str:
    """The content without the '---' line that ends it: the mbox writes that line itself,
    as git am expects it, right before the diff (Patchwork's mbox format)."""
    return re.sub(r"\s*-{2,3}\s*$", "", content or "").strip()


def patches_of(project) -> list[dict]:
    rows = []
    for patch in Patch.objects.filter(project=project).select_related("submitter", "series"):
        row = {field: getattr(patch, field) for field in FIELDS}
        row["content"] = commit_message(patch.content)
        row["submitter"] = (patch.submitter.email, patch.submitter.name)
        row["series_version"] = patch.series.version if patch.series else None
        rows.append(row)
    return sorted(rows, key=lambda row: row["msgid"])


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def test_round_trip_through_parsearchive_gives_the_same_patches(tmp_path, maintainer):
    original = make_project("frob", listid="frob.lists.example.org", maintainers=[maintainer])
    copy = make_project("copy", listid="copy.lists.example.org")
    load(write_mbox(MAILS, tmp_path / "in.mbox"), original.listid)
    # Triage changes nothing in what the mails were.
    patch_update(
        patch=Patch.objects.filter(project=original).first(),
        actor=maintainer,
        state=default_state("accepted"),
    )
    before = patches_of(original)
    assert len(before) >= 10

    call_command("dumparchive", "frob", "--compress", "-o", str(tmp_path / "dump.tar.gz"))

    files = members(tmp_path / "dump.tar.gz")
    assert list(files) == ["frob.mbox"]
    (tmp_path / "frob.mbox").write_bytes(files["frob.mbox"])
    summary = load(tmp_path / "frob.mbox", copy.listid)
    assert f"{len(before)} patches" in summary
    assert "0 failed" in summary
    after = patches_of(copy)
    assert [row["msgid"] for row in after] == [row["msgid"] for row in before]
    differences = [
        (old["msgid"], field, old[field], new[field])
        for old, new in zip(before, after, strict=True)
        for field in old
        if old[field] != new[field]
    ]
    assert differences == [], "\n".join(map(repr, differences))


def test_all_projects_by_default_one_mbox_each(tmp_path, monkeypatch):
    for name, count in (("alpha", 2), ("beta", 1), ("empty", 0)):
        project = make_project(name)
        for _ in range(count):
            make_patch(project)
    monkeypatch.chdir(tmp_path)

    call_command("dumparchive", stderr=io.StringIO())

    (archive,) = tmp_path.glob("patchwork_dump_*.tar")
    files = members(archive)
    assert sorted(files) == ["alpha.mbox", "beta.mbox", "empty.mbox"]
    assert files["alpha.mbox"].count(b"\nFrom patchwork ") + 1 == 2
    assert files["beta.mbox"].startswith(b"From patchwork ")
    assert files["empty.mbox"] == b""


@pytest.mark.parametrize("compression, opener", [("xz", "r:xz"), ("bz2", "r:bz2")])
def test_other_compressions(tmp_path, compression, opener):
    make_patch(make_project("zipped"))
    target = tmp_path / f"dump.tar.{compression}"

    call_command("dumparchive", "zipped", "-c", compression, "-o", str(target))

    with tarfile.open(target, opener) as tar:
        assert tar.getnames() == ["zipped.mbox"]


def test_body_lines_starting_with_from_do_not_split_patches(tmp_path):
    source = make_project("quoting")
    copy = make_project("quoted", listid="quoted.lists.example.com")
    submitter = make_person("q@example.com", name="Quentin")
    make_patch(
        source,
        submitter=submitter,
        msgid="<from-lines@example.com>",
        name="frob: handle mail",
        content="Mail starts like this:\n\nFrom somebody Mon Jan  1 00:00:00 2024\n\nnow handled.",
    )
    make_patch(source, submitter=submitter, msgid="<second@example.com>", name="second patch")

    call_command("dumparchive", "quoting", "-o", str(tmp_path / "d.tar"))

    mbox = members(tmp_path / "d.tar")["quoting.mbox"]
    assert b"\n>From somebody Mon Jan  1 00:00:00 2024\n" in mbox
    (tmp_path / "q.mbox").write_bytes(mbox)
    load(tmp_path / "q.mbox", copy.listid)
    assert sorted(Patch.objects.filter(project=copy).values_list("name", flat=True)) == [
        "frob: handle mail",
        "second patch",
    ]


def test_unknown_project_is_refused_and_nothing_is_written(tmp_path):
    make_project("known")

    with pytest.raises(CommandError, match="no project with linkname or list id 'unknown'"):
        call_command("dumparchive", "known", "unknown", "-o", str(tmp_path / "d.tar"))

    assert list(tmp_path.iterdir()) == []


def test_output_directory_must_exist(tmp_path):
    make_project("known")
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("dumparchive", "-o", str(tmp_path / "missing" / "d.tar"))


def test_export_reads_patches_in_batches(tmp_path, django_assert_max_num_queries):
    project = make_project("many")
    for _ in range(120):
        make_patch(project)

    # Project, ids, then three queries per batch of 50 patches (patches, comment
    # trailers, cover-letter trailers of their series): never one per patch.
    with django_assert_max_num_queries(2 + 3 * 3):
        call_command("dumparchive", "many", "-o", str(tmp_path / "d.tar"), stderr=io.StringIO())

    assert members(tmp_path / "d.tar")["many.mbox"].count(b"From patchwork ") == 120
