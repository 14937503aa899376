"""Fixtures for downloads: real git-made mails ingested, and the repository they apply to."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
from tests.factories import make_project

GIT_MAILS = Path(__file__).resolve().parent.parent / "data" / "mail" / "git"


def deliver(raw: bytes) -> IncomingMail:
    """Store and ingest one mail in this process, as `parsemail --sync` does."""
    mail = mail_ingest(mail_store(raw, enqueue=False))
    assert mail.status == IncomingMail.PARSED, (mail.status, mail.reason)
    return mail


def deliver_scenario(name: str) -> None:
    for path in sorted((GIT_MAILS / name).glob("*.eml")):
        deliver(path.read_bytes())


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


@pytest.fixture
def frob(maintainer):
    return make_project(
        "frob",
        name="Frobnicator",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer],
    )


@pytest.fixture
def base_repo(tmp_path):
    return make_base_repo(tmp_path / "frob")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_throttle_counters():
    """Failed logins and bad tokens are counted per address in the cache: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
