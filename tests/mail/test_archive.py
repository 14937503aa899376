"""parsearchive (mbox and Maildir, resumable, summary) and loaddemo."""

from __future__ import annotations

import mailbox
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.checks.models import Check
from apps.mail.archive import iter_mbox
from apps.mail.models import IncomingMail
from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Project
from apps.series.models import Series
from tests.mails import GIT, git_mails

pytestmark = pytest.mark.django_db


def write_mbox(path, mail_paths):
    box = mailbox.mbox(str(path))
    for mail_path in mail_paths:
        box.add(mailbox.mboxMessage(mail_path.read_bytes()))
    box.flush()
    box.close()


def run(*args) -> str:
    out = StringIO()
    call_command("parsearchive", *args, stdout=out)
    return out.getvalue()


def test_mbox_is_parsed_and_summarised(frob, tmp_path):
    mbox = tmp_path / "frob.mbox"
    write_mbox(mbox, [*git_mails("v1"), *git_mails("v2"), GIT / "pull.eml"])
    out = run(str(mbox))
    assert re.match(
        r"^8 messages: 6 patches, 2 covers, 0 comments, 0 ignored, 0 failed, 0 skipped \(", out
    )
    assert Series.objects.count() == 3
    assert Patch.objects.filter(pull_url="git://git.example.org/frob.git tags/v1").count() == 1


def test_rerun_skips_what_is_stored(frob, tmp_path):
    mbox = tmp_path / "frob.mbox"
    write_mbox(mbox, git_mails("v1")[:2])
    run(str(mbox))
    write_mbox(mbox, git_mails("v1")[2:])  # the archive grew: two more mails appended
    out = run(str(mbox))
    assert out.startswith(
        "4 messages: 2 patches, 0 covers, 0 comments, 0 ignored, 0 failed, 2 skipped"
    )
    assert IncomingMail.objects.count() == 4
    assert Patch.objects.count() == 3


def test_a_mail_stored_but_not_ingested_is_ingested_on_rerun(frob, tmp_path):
    from apps.mail.intake import mail_store

    mbox = tmp_path / "frob.mbox"
    write_mbox(mbox, git_mails("v1")[:1])
    mail_store(git_mails("v1")[0].read_bytes())  # a run that died after storing
    out = run(str(mbox))
    assert out.startswith("1 messages: 0 patches, 1 covers")
    assert IncomingMail.objects.get().status == IncomingMail.PARSED


def test_maildir(frob, tmp_path):
    box = mailbox.Maildir(str(tmp_path / "md"))
    for path in git_mails("v1"):
        box.add(mailbox.MaildirMessage(path.read_bytes()))
    out = run(str(tmp_path / "md"))
    assert out.startswith("4 messages: 3 patches, 1 covers")
    assert Series.objects.get().patches.count() == 3


def test_list_id_option_routes_mail_without_list_headers(tmp_path, maintainer):
    other = Project.objects.create(
        linkname="other", name="Other", listid="other.example.org", listemail="o@example.org"
    )
    raw = git_mails("single")[0].read_bytes()
    raw = re.sub(rb"List-(Id|Post): .*\n", b"", raw)
    mbox = tmp_path / "x.mbox"
    box = mailbox.mbox(str(mbox))
    box.add(mailbox.mboxMessage(raw))
    box.close()
    run("--list-id", "other.example.org", str(mbox))
    assert Patch.objects.get().project == other


def test_missing_archive_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="neither an mbox file nor a Maildir"):
        run(str(tmp_path / "nope"))


def test_mbox_reader_keeps_messages_intact(tmp_path):
    mbox = tmp_path / "a.mbox"
    write_mbox(mbox, git_mails("v1"))
    messages = [raw for raw, _ in iter_mbox(mbox)]
    assert [m.replace(b"\r\n", b"\n") for m in messages] == [
        p.read_bytes() for p in git_mails("v1")
    ]


def test_loaddemo_goes_through_ingestion(db):
    out = StringIO()
    call_command("loaddemo", stdout=out)
    assert "24 messages: 10 patches, 2 covers, 9 comments, 3 ignored, 0 failed" in out.getvalue()
    project = Project.objects.get(linkname="patchwork")
    assert Series.objects.filter(project=project).count() == 5
    assert Cover.objects.count() == 2
    assert PatchComment.objects.count() + CoverComment.objects.count() == 9
    v2 = Series.objects.get(version=2)
    assert v2.patches.count() == 3 and v2.cover is not None
    tags = {p.name: {t.tag.name: t.count for t in p.patchtags.all()} for p in Patch.objects.all()}
    # Bob reviewed the v2 cover letter, which counts for every v2 patch.
    assert tags["[v2,1/3] mboxstat: count the patches each sender posted"] == {
        "Reviewed-by": 1,
        "Tested-by": 1,
    }
    assert tags["[v2,3/3] docs: describe mboxstat"] == {"Reviewed-by": 1, "Acked-by": 1}
    assert Patch.objects.get(pull_url__isnull=False).pull_url == (
        "https://git.example.org/mboxstat.git mboxstat-v2"
    )
    # Every patch has a commit message above its diff, signed off.
    for patch in Patch.objects.filter(pull_url__isnull=True):
        message = patch.content.split("\n---\n")[0]
        assert len(message.splitlines()) >= 3 and "Signed-off-by: " in message, patch.name
    # The triage that does not come by mail: states, delegate, checks, a public bundle.
    assert set(
        Patch.objects.filter(series__version=1, series__cover__isnull=False).values_list(
            "state__slug", flat=True
        )
    ) == {"superseded"}
    assert {p.delegate.username for p in v2.patches.all()} == {"dave"}
    assert Check.objects.filter(patch__series=v2).count() == 4
    assert {c.state for c in Check.objects.all()} == {"success", "warning", "fail"}
    bundle = Bundle.objects.get(name="for-1.0")
    assert bundle.public and bundle.patches.count() == 4
    again = StringIO()
    call_command("loaddemo", stdout=again)
    assert "24 skipped" in again.getvalue() and "bundle" not in again.getvalue()
    assert Check.objects.count() == 6


def test_loaddemo_if_empty_leaves_a_database_with_projects_alone(db):
    Project.objects.create(linkname="mine", name="Mine", listid="mine.example.org", listemail="m@x")
    out = StringIO()
    call_command("loaddemo", "--if-empty", stdout=out)
    assert out.getvalue() == ""
    assert list(Project.objects.values_list("linkname", flat=True)) == ["mine"]
    assert not IncomingMail.objects.exists()
    call_command("loaddemo", stdout=out)
    assert Project.objects.count() == 2


def test_loaddemo_if_empty_loads_a_fresh_database(db):
    call_command("loaddemo", "--if-empty", stdout=StringIO())
    assert Project.objects.get().patches.count() == 10


def test_loaddemo_next_to_a_project_called_patchwork(db):
    Project.objects.create(
        linkname="patchwork", name="Patchwork", listid="other.example.org", listemail="x@y"
    )
    call_command("loaddemo", stdout=StringIO())
    demo = Project.objects.get(listid="patchwork.lists.example.org")
    assert demo.linkname == "patchwork-demo"
    assert demo.patches.count() == 10
