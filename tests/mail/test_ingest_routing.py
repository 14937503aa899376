"""Routing mail to projects: list headers, --list-id, subject_match and defaults."""

from __future__ import annotations

import re

import pytest

from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from tests.factories import make_project
from tests.mails import deliver, git_mails

pytestmark = pytest.mark.django_db


def without_list_headers(raw: bytes) -> bytes:
    return re.sub(rb"^List-(Id|Post): .*\n", b"", raw, flags=re.MULTILINE)


def single() -> bytes:
    return git_mails("single")[0].read_bytes()


def test_list_id(frob):
    mail = deliver(single())
    assert mail.project == frob and Patch.objects.get().project == frob


@pytest.mark.parametrize(
    "header",
    [
        b"X-Mailing-List: frob@lists.example.org",
        b"X-Mailing-List: <frob@lists.example.org>",
        b"List-Post: <mailto:frob@lists.example.org>",
        b"Mailing-List: list frob@lists.example.org; contact frob-help@lists.example.org",
        b"X-BeenThere: frob@lists.example.org",
    ],
)
def test_other_list_headers_when_list_id_is_missing(frob, header):
    raw = without_list_headers(single()).replace(b"\nSubject:", b"\n" + header + b"\nSubject:", 1)
    assert deliver(raw).project == frob


def test_list_id_option_overrides_headers(frob):
    other = make_project("other", listid="other.example.org")
    assert deliver(single(), list_id="other.example.org").project == other
    assert Patch.objects.get().project == other


def test_subject_match_splits_one_list_between_projects(frob):
    docs = make_project("docs", listid="frob.lists.example.org", subject_match=r"^\[PATCH docs\]")
    raw = single()
    assert deliver(raw).project == frob  # no match: the list's default project
    docs_raw = raw.replace(b"Subject: [PATCH] ", b"Subject: [PATCH docs] ").replace(
        b"Message-Id: <", b"Message-Id: <docs."
    )
    assert deliver(docs_raw).project == docs
    # The project's own name is dropped from the patch name like PATCH is.
    assert Patch.objects.get(project=docs).name == (
        "docs: add a logo, an empty file and a file without newline"
    )


def test_no_default_project_for_the_list(db):
    make_project("docs", listid="frob.lists.example.org", subject_match=r"\[docs\]")
    mail = deliver(single())
    assert mail.status == IncomingMail.IGNORED
    assert mail.reason == "no project of list frob.lists.example.org matches the subject"
    assert not Patch.objects.exists()


def test_unknown_list(db):
    mail = deliver(single())
    assert (mail.status, mail.reason) == ("ignored", "no project for list frob.lists.example.org")


def test_no_list_headers_at_all(frob):
    mail = deliver(without_list_headers(single()))
    assert mail.status == "ignored"
    assert mail.reason == "no List-Id (or other list header) and no --list-id"
    assert mail.project is None


def test_a_bad_subject_match_regex_is_skipped(frob):
    make_project("broken", listid="frob.lists.example.org", subject_match="[unclosed")
    assert deliver(single()).project == frob


def test_cross_posted_mail_lands_in_each_project(frob):
    other = make_project("other", listid="other.example.org")
    deliver(single())
    deliver(single(), list_id="other.example.org")
    assert sorted(Patch.objects.values_list("project__linkname", flat=True)) == ["frob", "other"]
    assert other.patches.get().msgid == frob.patches.get().msgid
