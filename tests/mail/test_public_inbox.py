"""public-inbox repositories in: parsearchive and follow-inbox read real v1 and v2 inboxes made
by Debian's public-inbox tools (public-inbox-init, public-inbox-mda)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from apps.mail.models import InboxCursor, IncomingMail
from apps.mail.tasks import mail_follow_inboxes
from apps.patches.models import Cover, Patch
from apps.series.models import Series
from tests.mails import deliver
from tests.rerolls import v1, v2

pytestmark = pytest.mark.django_db

ADDRESS = "frob@lists.example.org"


def _tools_or_skip() -> None:
    if shutil.which("public-inbox-init") and shutil.which("public-inbox-mda"):
        return
    message = "public-inbox is not installed (apt-get install public-inbox; .ci/run does)"
    if os.environ.get("PATCHWORK_REQUIRE_SERVICES"):
        pytest.fail(message)  # CI installs it: a missing tool there is a failure
    pytest.skip(message)


class Inbox:
    """A public-inbox made by public-inbox-init, fed by public-inbox-mda as an MTA would."""

    def __init__(self, root: Path, version: int):
        _tools_or_skip()
        self.path = root / f"inbox-v{version}"
        home = root / "home"
        home.mkdir(exist_ok=True)
        config = home / ".public-inbox" / "config"
        self.env = {**os.environ, "HOME": str(home), "PI_CONFIG": str(config)}
        self._run(
            [
                "public-inbox-init",
                f"-V{version}",
                f"frob{version}",
                str(self.path),
                "http://lists.example.org/frob",
                ADDRESS,
            ]
        )
        # No SpamAssassin on a test machine.
        self._run(["git", "config", "-f", str(config), "publicinboxmda.spamcheck", "none"])

    def _run(self, args: list[str], stdin: bytes | None = None) -> None:
        subprocess.run(args, input=stdin, env=self.env, check=True, capture_output=True)

    def deliver(self, *mails: bytes) -> None:
        env = {**self.env, "ORIGINAL_RECIPIENT": ADDRESS}
        for raw in mails:
            subprocess.run(
                ["public-inbox-mda", "--no-precheck"],
                input=raw,
                env=env,
                check=True,
                capture_output=True,
            )

    def head(self, repo: str) -> str:
        out = subprocess.run(
            ["git", "--git-dir", str(self.path / repo), "rev-parse", "HEAD"],
            capture_output=True,
            check=True,
        )
        return out.stdout.decode().strip()


def stored() -> dict[str, int]:
    return {
        "mail": IncomingMail.objects.count(),
        "patches": Patch.objects.count(),
        "covers": Cover.objects.count(),
    }


def run(command: str, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_parsearchive_reads_a_v1_inbox_and_resumes(frob, tmp_path):
    inbox = Inbox(tmp_path, 1)
    inbox.deliver(*v1())
    out = run("parsearchive", str(inbox.path))
    assert "4 messages: 3 patches, 1 covers" in out
    assert stored() == {"mail": 4, "patches": 3, "covers": 1}
    cursor = InboxCursor.objects.get()
    assert cursor.repository == str(inbox.path.resolve())
    assert cursor.last_commit == inbox.head(".")
    # Run again: nothing new is even read.
    assert "0 messages" in run("parsearchive", str(inbox.path))
    inbox.deliver(*v2())
    out = run("parsearchive", str(inbox.path))
    assert "3 messages: 2 patches, 1 covers" in out
    assert Series.objects.get(version=2).previous_revision == Series.objects.get(version=1)


def test_follow_inbox_ingests_what_a_v2_inbox_received_since(frob, tmp_path):
    inbox = Inbox(tmp_path, 2)
    assert "0 messages" in run("follow-inbox", str(inbox.path))  # nothing yet: no epoch
    inbox.deliver(*v1()[:2])
    assert "2 messages: 1 patches, 1 covers" in run("follow-inbox", str(inbox.path))
    inbox.deliver(*v1()[2:])
    assert "2 messages: 2 patches" in run("follow-inbox", str(inbox.path))
    assert stored() == {"mail": 4, "patches": 3, "covers": 1}
    cursor = InboxCursor.objects.get()
    assert cursor.repository == str((inbox.path / "git" / "0.git").resolve())
    assert cursor.last_commit == inbox.head("git/0.git")


def test_each_message_once_whatever_came_first(frob, tmp_path):
    inbox = Inbox(tmp_path, 2)
    mails = v1()
    deliver(mails[1])  # the MTA delivered one patch before the mirror was followed
    inbox.deliver(*reversed(mails))  # and the inbox has them out of order
    out = run("follow-inbox", str(inbox.path))
    assert "1 skipped" in out
    assert stored() == {"mail": 4, "patches": 3, "covers": 1}
    # A lost cursor (or another mirror of the same list) reads it all again: nothing new.
    InboxCursor.objects.all().delete()
    assert "4 skipped" in run("follow-inbox", str(inbox.path))
    assert stored() == {"mail": 4, "patches": 3, "covers": 1}
    assert list(Series.objects.values_list("total", flat=True)) == [3]


def test_not_an_inbox_is_an_error_and_changes_nothing(frob, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="is not a public-inbox repository"):
        run("follow-inbox", str(tmp_path / "empty"))
    assert stored() == {"mail": 0, "patches": 0, "covers": 0}
    assert not InboxCursor.objects.exists()


def test_beat_follows_the_configured_inboxes(frob, tmp_path, settings):
    inbox = Inbox(tmp_path, 1)
    inbox.deliver(*v2())
    settings.PUBLIC_INBOX_PATHS = [str(inbox.path)]
    assert "follow-inboxes" in settings.CELERY_BEAT_SCHEDULE
    assert settings.CELERY_BEAT_SCHEDULE["follow-inboxes"]["task"] == mail_follow_inboxes.name
    assert mail_follow_inboxes() == 3
    assert stored() == {"mail": 3, "patches": 2, "covers": 1}
    assert mail_follow_inboxes() == 0


def test_parsearchive_still_reads_mbox_files(frob, tmp_path):
    mbox = tmp_path / "v2.mbox"
    mbox.write_bytes(b"".join(b"From x Thu Jan  1 00:00:00 1970\n" + m + b"\n" for m in v2()))
    assert "3 messages: 2 patches, 1 covers" in run("parsearchive", str(mbox))
    assert settings.PUBLIC_INBOX_PATHS == []
