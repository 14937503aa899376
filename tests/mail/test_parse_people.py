"""Submitters from From headers: display names, archive styles, list rewrites."""

from __future__ import annotations

import pytest

from apps.mail.parse import MailParseError, parse_mail
from apps.mail.parse.people import parse_submitter
from tests.mails import read


@pytest.mark.parametrize(
    ("value", "name", "email"),
    [
        ("Ada Lovelace <ada@example.org>", "Ada Lovelace", "ada@example.org"),
        ('"Lovelace, Ada" <ada@example.org>', "Lovelace, Ada", "ada@example.org"),
        ("ada@example.org", "", "ada@example.org"),
        ("ada@example.org (Ada Lovelace)", "Ada Lovelace", "ada@example.org"),
        ("ada at example.org (Ada Lovelace)", "Ada Lovelace", "ada@example.org"),
        ("Ada Lovelace <ada at example.org>", "Ada Lovelace", "ada@example.org"),
        ("Ada <ada@example.org", "Ada", "ada@example.org"),
    ],
)
def test_from_values(value, name, email):
    assert parse_submitter(value) == (name, email)


def test_pipermail_archive_style():
    mail = parse_mail(read("people/at-style.eml"))
    assert (mail.name, mail.email) == ("Ada Lovelace", "ada.lovelace@example.org")


def test_list_rewritten_from_uses_the_original_sender():
    mail = parse_mail(read("people/dmarc.eml"))
    assert (mail.name, mail.email) == ("Ada Lovelace", "ada@example.org")


@pytest.mark.parametrize("value", ["", "Ada Lovelace", "undisclosed-recipients:;"])
def test_no_address(value):
    with pytest.raises(MailParseError):
        parse_submitter(value)


def test_overlong_name_is_shortened_overlong_address_is_refused():
    name, email = parse_submitter("A" * 400 + " <a@example.org>")
    assert len(name) == 255 and name.endswith("…") and email == "a@example.org"
    with pytest.raises(MailParseError, match="longer than 255"):
        parse_submitter("Ada <" + "a" * 300 + "@example.org>")
