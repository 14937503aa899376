"""Hostile mail: oversized, deeply nested, huge headers, floods of parts or references.

Each is refused (or kept within limits) with a clear reason, stores nothing
partial, and costs bounded memory and time.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from apps.mail.intake import mail_store
from apps.mail.management.commands.parsemail import read_bounded
from apps.mail.models import IncomingMail
from apps.mail.parse import MAX_PARTS, MailParseError, parse_mail
from apps.mail.parse.headers import MAX_REFERENCES
from apps.mail.services import mail_ingest
from apps.patches.models import Patch
from apps.projects.models import Project

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

HEAD = b"Message-Id: <hostile@example.org>\nFrom: Eve <eve@example.org>\nList-Id: <h.example.org>\n"
DIFF = b"diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"


@pytest.fixture
def project(db):
    return Project.objects.create(
        linkname="h", name="H", listid="h.example.org", listemail="h@example.org"
    )


def ingest(raw: bytes) -> IncomingMail:
    return mail_ingest(mail_store(raw))


def nested(depth: int) -> bytes:
    inner = b"Content-Type: text/plain\n\n" + DIFF
    for i in range(depth):
        boundary = b"b%d" % i
        inner = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\n\n--' + boundary
            + b"\n" + inner + b"\n--" + boundary + b"--\n"
        )  # fmt: skip
    return HEAD + b"Subject: [PATCH] nested\nMIME-Version: 1.0\n" + inner


def many_parts(count: int) -> bytes:
    parts = b"".join(b"--p\nContent-Type: text/plain\n\nx\n" for _ in range(count))
    return (
        HEAD + b'Subject: [PATCH] parts\nMIME-Version: 1.0\nContent-Type: multipart/mixed; '
        b'boundary="p"\n\n' + parts + b"--p--\n"
    )  # fmt: skip


def test_deep_mime_nesting_is_refused_clearly(project):
    mail = ingest(nested(2000))
    assert mail.status == IncomingMail.FAILED
    assert mail.reason == "MIME parts nested too deeply"
    assert not Patch.objects.exists()


def test_modest_nesting_is_fine(project):
    assert ingest(nested(20)).status == IncomingMail.PARSED


def test_a_flood_of_mime_parts_is_refused_in_bounded_memory(project):
    raw = many_parts(50_000)  # ~1.5 MB: before the limit, ~100 MB of Message objects
    tracemalloc.start()
    try:
        with pytest.raises(MailParseError, match=f"more than {MAX_PARTS} MIME parts"):
            parse_mail(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(raw)
    mail = ingest(raw)
    assert (mail.status, mail.reason) == (IncomingMail.FAILED, f"more than {MAX_PARTS} MIME parts")
    assert ingest(many_parts(MAX_PARTS - 5).replace(b"hostile@", b"ok@")).status != "failed"


def test_a_huge_subject_is_kept_short_and_the_mail_stored_whole(project):
    raw = HEAD + b"Subject: [PATCH] " + b"x" * 1_000_000 + b"\n\n" + DIFF
    mail = ingest(raw)
    assert mail.status == IncomingMail.PARSED, mail.reason
    patch = Patch.objects.get()
    assert len(patch.name) <= 255
    assert bytes(IncomingMail.objects.get(pk=mail.pk).raw) == raw


def test_thousands_of_headers_parse(project):
    raw = HEAD + b"Subject: [PATCH] hdrs\n" + b"".join(b"X-H%d: v\n" % i for i in range(20_000))
    assert ingest(raw + b"\n" + DIFF).status == IncomingMail.PARSED


def test_a_references_flood_keeps_the_closest_ancestors_in_linear_time():
    count = 200_000  # before the fix: quadratic, well over ten minutes
    refs = b" ".join(b"<r%d@x>" % i for i in range(count))
    raw = HEAD + b"Subject: Re: flood\nReferences: " + refs + b"\n\nhi\n"
    code = (
        "import sys, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','config.settings');"
        "django.setup(); from apps.mail.parse import parse_mail;"
        "p = parse_mail(sys.stdin.buffer.read()); print(len(p.refs), p.refs[-1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=raw, capture_output=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(MAX_REFERENCES).encode(), b"<r%d@x>" % (count - 1)]


def test_encodings_do_not_amplify(project):
    # base64 inside base64 inside quoted-printable: each layer only shrinks what is stored.
    inner = base64.encodebytes(base64.encodebytes(DIFF * 10_000))
    raw = (
        HEAD + b"Subject: [PATCH] enc\nMIME-Version: 1.0\nContent-Type: text/plain\n"
        b"Content-Transfer-Encoding: base64\n\n" + inner
    )  # fmt: skip
    mail = ingest(raw)
    assert mail.status in (IncomingMail.PARSED, IncomingMail.IGNORED, IncomingMail.FAILED)
    stored = sum(len(p.content) + len(p.diff or "") for p in Patch.objects.all())
    assert stored <= len(raw)


def test_oversized_mail_over_http_is_refused_before_reading_it(settings):
    settings.MAIL_INTAKE_TOKEN = "t"
    settings.MAX_MAIL_SIZE = 10_000
    response = Client().post(
        "/mail/", b"x" * 20_000, content_type="message/rfc822", HTTP_AUTHORIZATION="Bearer t"
    )
    assert response.status_code == 413
    assert "larger than 10000 bytes" in response.json()["detail"]
    assert not IncomingMail.objects.exists()


def test_oversized_mail_through_parsemail_is_kept_failed_with_its_reason(settings, project):
    settings.MAX_MAIL_SIZE = 10_000
    mail = mail_store(HEAD + b"Subject: big\n\n" + b"x" * 50_000)
    assert mail.status == IncomingMail.FAILED
    assert "larger than MAX_MAIL_SIZE" in mail.reason
    assert len(mail.raw) <= 64 * 1024


def test_oversized_api_bodies_are_refused(settings, maintainer):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = Client()
    client.force_login(maintainer)
    response = client.post(
        "/api/1.4/bundles/", b'{"name": "' + b"x" * 20_000 + b'"}', content_type="application/json"
    )
    assert response.status_code in (400, 413)


def test_deeply_nested_json_is_a_400(maintainer):
    client = Client()
    client.force_login(maintainer)
    body = '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/api/1.4/bundles/", body, content_type="application/json")
    assert response.status_code == 400


def test_deeply_nested_xmlrpc_is_a_fault(maintainer):
    import xmlrpc.client

    value = "<value><array><data>" * 20_000 + "</data></array></value>" * 20_000
    body = (
        "<?xml version='1.0'?><methodCall><methodName>patch_list</methodName><params><param>"
        + value
        + "</param></params></methodCall>"
    )
    response = Client().post("/xmlrpc/", body, content_type="text/xml")
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault):
        xmlrpc.client.loads(response.content)


class CountingStream(io.BufferedIOBase):
    """A real byte stream that remembers the largest piece it handed out at once."""

    def __init__(self, data: bytes):
        self.inner = io.BytesIO(data)
        self.largest = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.inner.read(size)
        self.largest = max(self.largest, len(chunk))
        return chunk


def test_parsemail_never_holds_more_than_max_mail_size_of_an_oversize_mail(
    settings, project, monkeypatch, tmp_path
):
    # The probe: parsemail read the whole message before checking MAX_MAIL_SIZE.
    settings.MAX_MAIL_SIZE = 10_000
    raw = HEAD + b"Subject: big\n\n" + b"x" * 500_000
    stdin = CountingStream(raw)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
    with pytest.raises(SystemExit) as exit_status:
        call_command("parsemail", "--sync", stdout=io.StringIO())
    assert exit_status.value.code == 1
    assert stdin.largest <= settings.MAX_MAIL_SIZE + 1
    assert stdin.inner.tell() == len(raw)  # the rest was taken (and dropped): the MTA is done
    mail = IncomingMail.objects.get()
    assert mail.status == IncomingMail.FAILED
    assert mail.reason.startswith(f"message of {len(raw)} bytes is larger than MAX_MAIL_SIZE")
    assert len(mail.raw) <= 64 * 1024


def test_parsemail_reads_an_oversize_file_only_up_to_max_mail_size(settings, project, tmp_path):
    settings.MAX_MAIL_SIZE = 10_000
    raw = HEAD + b"Subject: big\n\n" + b"x" * 500_000
    path = tmp_path / "big.eml"
    path.write_bytes(raw)
    with open(path, "rb") as fh:
        head, _ = read_bounded(fh, settings.MAX_MAIL_SIZE, drain=False)
        assert fh.tell() == settings.MAX_MAIL_SIZE + 1  # stopped there
    assert len(head) == settings.MAX_MAIL_SIZE + 1
    with pytest.raises(SystemExit):
        call_command("parsemail", "--sync", str(path), stdout=io.StringIO())
    mail = IncomingMail.objects.get()
    assert mail.status == IncomingMail.FAILED
    assert f"message of {len(raw)} bytes" in mail.reason
