"""Headers: decoding, Message-IDs, references, dates, list ids and the stored header block."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.mail.parse import MailParseError, parse_mail
from apps.mail.parse.headers import (
    decode_header,
    headers_text,
    parse_date,
    parse_list_ids,
    parse_msgid,
    parse_references,
)
from tests.mails import GIT, read


def test_rfc2047_words_in_several_charsets_are_joined():
    mail = parse_mail(read("encoding/rfc2047.eml"))
    assert mail.raw_subject == "[PATCH] frob: café avec crème"
    assert (mail.name, mail.email) == ("Jörg Müller", "joerg@example.de")


def test_raw_utf8_headers():
    mail = parse_mail(read("encoding/utf8-headers.eml"))
    assert mail.raw_subject == "[PATCH] frob: naïve façade"
    assert mail.name == "Jörg Müller"


def test_encoded_word_split_inside_a_character():
    # "é" is C3 A9 in UTF-8: one byte in each encoded word.
    assert decode_header("=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=") == "café"


def test_unknown_charset_in_an_encoded_word_does_not_crash():
    assert decode_header("=?x-unknown?Q?caf=C3=A9?= ok") == "café ok"
    assert decode_header("=?utf-8?B?not base64!?=") == "=?utf-8?B?not base64!?="
    assert decode_header("=?utf-8?B?Y2Fm?=") == "caf"


def test_folded_subject_with_crlf_is_unfolded_but_stored_folded():
    mail = parse_mail(read("diff/crlf.eml"))
    assert mail.subject.title == "frob: sent with CRLF line endings"
    # Stored as received (LF line ends): the APIs show headers verbatim.
    assert "Subject: [PATCH] frob: sent with CRLF\n\tline endings\n" in mail.headers


def test_headers_are_stored_as_received_one_header_per_entry():
    mail = parse_mail(
        (GIT / "v2" / "0001-frob-fix-the-frobnicator-for-negative-input.eml").read_bytes()
    )
    assert "\nReferences: <cover.v1.git.ada@example.org>\n\t<cover.v2.git.ada@example.org>\n" in (
        mail.headers
    )
    lines = mail.headers.split("\n")
    assert (
        lines[0] == "Message-Id: <add04207a8d902f51f3e62408457a68c1b7a0725.v2.git.ada@example.org>"
    )
    assert all(": " in line or line[0] in " \t" for line in lines)
    assert headers_text([("X-Null", "a\x00b")]) == "X-Null: ab"


@pytest.mark.parametrize(
    ("value", "msgid"),
    [
        ("<a@b>", "<a@b>"),
        ("  <a@b>  (comment)", "<a@b>"),
        ("a@b", "<a@b>"),
        ("<a @b>", "<a@b>"),
        ("\n <folded@example.org>", "<folded@example.org>"),
    ],
)
def test_message_ids(value, msgid):
    assert parse_msgid(value) == msgid


@pytest.mark.parametrize("value", ["", None, "   "])
def test_missing_message_id(value):
    with pytest.raises(MailParseError, match="no Message-ID"):
        parse_msgid(value)


def test_overlong_message_id():
    with pytest.raises(MailParseError, match="longer than 255"):
        parse_msgid("<" + "x" * 300 + ">")


def test_references_oldest_first_in_reply_to_last():
    refs = parse_references(
        ["<parent@x> (Bob's message of Monday)"],
        ["<root@x> <parent@x>\n <middle@x>", "<late@x>"],
        "<me@x>",
    )
    assert refs == ["<root@x>", "<middle@x>", "<late@x>", "<parent@x>"]
    assert parse_references([], ["<me@x> <a@x>"], "<me@x>") == ["<a@x>"]
    assert parse_references(["garbage"], [], "<me@x>") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Fri, 1 Mar 2024 10:00:00 +0000", dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)),
        ("Fri, 1 Mar 2024 12:00:00 +0200", dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)),
        ("1 Mar 2024 10:00:00 -0000", dt.datetime(2024, 3, 1, 10, tzinfo=dt.UTC)),
        ("Someday, 45 Smarch 20x4 25:61:00 +9999", None),
        ("Thu, 1 Jan 1900 00:00:00 +0000", None),
        ("", None),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


def test_list_ids_best_first():
    headers = [
        ("X-Mailing-List", "frob@lists.example.org"),
        ("List-Id", "Frobnicator development <Frob.Lists.Example.Org>"),
        ("Mailing-List", "list other@example.org; contact other-help@example.org"),
        ("List-Post", "<mailto:post@example.org>"),
    ]
    assert parse_list_ids(headers) == [
        "frob.lists.example.org",
        "frob@lists.example.org",
        "other@example.org",
        "post@example.org",
    ]
    assert parse_list_ids([("List-Id", "bare.example.org")]) == ["bare.example.org"]
    assert parse_list_ids([("Subject", "x")]) == []
