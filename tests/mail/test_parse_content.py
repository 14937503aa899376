"""Bodies: transfer encodings, charsets, multipart mail and attachments."""

from __future__ import annotations

import pytest

from apps.mail.parse import MailParseError, parse_mail
from tests.mails import read

SIMPLE = read("diff/prose.eml").decode().split("---\n", 1)[1].split("-- \n")[0]


def test_base64_body():
    mail = parse_mail(read("encoding/base64.eml"))
    assert mail.message == (
        "Überarbeitet: frobnicate größer.\n\nSigned-off-by: Jörg Müller <joerg@example.de>\n---"
    )
    assert mail.diff == SIMPLE


def test_quoted_printable_body():
    mail = parse_mail(read("encoding/quoted-printable.eml"))
    assert mail.message.startswith(
        "A quoted-printable body with a long line that the mailer wrapped for us because "
        "it is longer than seventy-six characters.\n"
    )
    assert "+\t/* x = y */\n" in mail.diff


def test_unknown_charset_falls_back_to_utf8():
    assert parse_mail(read("encoding/unknown-charset.eml")).message.startswith(
        "Déclaré x-klingon, envoyé en UTF-8."
    )


@pytest.mark.parametrize("name", ["encoding/wrong-charset.eml", "encoding/invalid-bytes.eml"])
def test_bad_bytes_become_replacement_characters(name):
    mail = parse_mail(read(name))
    assert "\ufffd" in mail.message
    assert mail.diff == SIMPLE


def test_multipart_alternative_uses_the_plain_part_only():
    mail = parse_mail(read("encoding/alternative.eml"))
    assert mail.message == "Plain part.\n\n---"
    assert mail.diff == SIMPLE
    assert "<p>" not in mail.body


def test_patch_in_a_base64_attachment():
    mail = parse_mail(read("diff/attachment.eml"))
    assert mail.diff == SIMPLE
    assert mail.message == "Hi, the patch is attached (my mailer mangles inline patches).\n\nAda"


def test_broken_base64_is_a_parse_error():
    with pytest.raises(MailParseError, match="broken base64"):
        parse_mail(read("malformed/broken-base64.eml"))


def test_nul_bytes_are_removed():
    mail = parse_mail(read("malformed/nul-bytes.eml"))
    assert mail.raw_subject == "[PATCH] frob: NUL bytes"
    assert "\x00" not in mail.body + mail.diff + mail.headers
    assert "+\t/* frobnicate */\n" in mail.diff


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("malformed/empty.eml", "empty message"),
        ("malformed/garbage.eml", "no headers"),
        ("malformed/no-message-id.eml", "no Message-ID header"),
        ("malformed/no-from.eml", "no From header"),
    ],
)
def test_unusable_mail(name, reason):
    with pytest.raises(MailParseError, match=reason):
        parse_mail(read(name))


def test_signature_and_list_footer_are_not_content():
    raw = (
        b"From: a@example.org\nMessage-Id: <f@x>\nSubject: Re: x\n\nthanks\n"
        b"_______________________________________________\nfrob mailing list\n"
    )
    assert parse_mail(raw).body == "thanks"
