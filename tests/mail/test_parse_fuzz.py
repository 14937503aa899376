"""Whatever bytes arrive, parsing gives a ParsedMail or a MailParseError — never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.mail.parse import MailParseError, parse_mail
from apps.mail.parse.diff import split_patch
from apps.mail.parse.subject import parse_subject
from tests.mails import DATA

SAMPLES = [p.read_bytes() for p in sorted(DATA.rglob("*.eml"))[:40]]


def parse_or_refuse(raw: bytes) -> None:
    try:
        mail = parse_mail(raw)
    except MailParseError:
        return
    assert mail.msgid.startswith("<") and mail.msgid.endswith(">")
    assert "\x00" not in mail.headers + mail.body + (mail.diff or "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes(raw):
    parse_or_refuse(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10**6), st.binary(max_size=8)), max_size=6),
)
def test_real_mail_with_random_damage(raw, damage):
    data = bytearray(raw)
    for position, junk in damage:
        position %= max(len(data), 1)
        data[position : position + len(junk)] = junk
    parse_or_refuse(bytes(data))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("+- @\\\ndifa/b,0123456789")), max_size=300))
def test_split_patch_keeps_every_line(text):
    diff, rest = split_patch(text)
    lines = (diff or "").split("\n") + rest.split("\n")
    assert sorted(line for line in lines if line) == sorted(
        line for line in text.replace("\r\n", "\n").split("\n") if line
    )


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_any_subject(subject):
    parsed = parse_subject(subject)
    assert parsed.version >= 1
    assert isinstance(parsed.name(drop=("frob",)), str)
