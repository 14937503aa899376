"""Helpers for mail tests: the frob project (the list the test mails go to) and delivery."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.mail.intake import mail_store
from apps.mail.models import IncomingMail
from apps.mail.services import mail_ingest
from tests.factories import make_project

DATA = Path(__file__).resolve().parent.parent / "data" / "mail"
GIT = DATA / "git"


def read(name: str | Path) -> bytes:
    path = Path(name)
    return (path if path.is_absolute() else DATA / path).read_bytes()


def deliver(mail: str | Path | bytes, *, list_id: str = "") -> IncomingMail:
    """Store and ingest one mail in this process, as `parsemail --sync` does."""
    raw = mail if isinstance(mail, bytes) else read(mail)
    return mail_ingest(mail_store(raw, list_id=list_id, enqueue=False))


def deliver_all(paths, *, list_id: str = "") -> list[IncomingMail]:
    return [deliver(path, list_id=list_id) for path in paths]


def git_mails(scenario: str) -> list[Path]:
    return sorted((GIT / scenario).glob("*.eml"))


@pytest.fixture
def frob(maintainer):
    """The project the test mails are sent to (List-Id frob.lists.example.org)."""
    return make_project(
        "frob",
        name="Frobnicator",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer],
    )


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Personas get passwords; hashing them properly is slow and beside the point here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
