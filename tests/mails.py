"""Real mail for tests: the files under tests/data/mail, delivering them, the git tree they apply to."""

from __future__ import annotations

import subprocess
from pathlib import Path

from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest

DATA = Path(__file__).resolve().parent / "data" / "mail"
GIT = DATA / "git"


def read(name: str | Path) -> bytes:
    path = Path(name)
    return (path if path.is_absolute() else DATA / path).read_bytes()


def deliver(mail: str | Path | bytes, *, list_id: str = "") -> IncomingMail:
    """Store and ingest one mail in this process, as `parsemail --sync` does."""
    raw = mail if isinstance(mail, bytes) else read(mail)
    return mail_ingest(mail_store(raw, list_id=list_id))


def deliver_all(paths, *, list_id: str = "") -> list[IncomingMail]:
    return [deliver(path, list_id=list_id) for path in paths]


def git_mails(scenario: str) -> list[Path]:
    return sorted((GIT / scenario).glob("*.eml"))


def deliver_parsed(raw: bytes) -> IncomingMail:
    """Deliver one mail that must be parsed (a failure says why)."""
    mail = deliver(raw)
    assert mail.status == IncomingMail.PARSED, (mail.status, mail.reason)
    return mail


def deliver_scenario(name: str) -> None:
    for path in git_mails(name):
        deliver_parsed(path.read_bytes())


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=check, capture_output=True, text=True, timeout=60
    )


def make_base_repo(path: Path) -> Path:
    """The tree the test mails were made against (tests/data/mail/generate_git_mails.py)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "user.name", "Tester")
    git(path, "config", "user.email", "tester@example.org")
    git(path, "config", "commit.gpgsign", "false")
    files = {
        "src/frob.c": "int frob(int x)\n{\n\treturn x + 1;\n}\n",
        "README.md": "# Frobnicator\n\nIt frobs.\n",
        "docs/old.txt": "old\n",
        "docs/gone.txt": "this file goes away\n",
    }
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial import")
    return path
