"""Hypothesis strategies for hostile and malformed mail (shared by the tests and the soak fuzz)."""

from __future__ import annotations

import base64
import quopri
from pathlib import Path

from hypothesis import strategies as st

DATA = Path(__file__).resolve().parents[1] / "data" / "mail"
LIST_ID = "fuzz.lists.example.org"

REAL_MAILS = sorted(p.read_bytes() for p in DATA.rglob("*.eml"))

_DIFF = "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,3 @@\n line\n+added\n line\n"
_HEADER_NAMES = [
    "Subject", "From", "Message-Id", "In-Reply-To", "References", "Date", "Content-Type",
    "Content-Transfer-Encoding", "List-Id", "X-Patchwork-Hint", "X-Patchwork-State",
    "X-Patchwork-Delegate", "Reply-To", "X-Original-From", "MIME-Version", "X-Mailing-List",
]  # fmt: skip
_CHARSETS = ["utf-8", "iso-8859-1", "us-ascii", "x-unknown", "utf-16", "bogus", ""]
_TYPES = [
    "text/plain", "text/x-patch", "text/x-diff", "application/octet-stream", "text/html",
    "multipart/mixed", "multipart/alternative", "message/rfc822", "application/x-patch",
]  # fmt: skip


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=80),
        st.sampled_from(
            [
                "[PATCH] frob: fix",
                "[PATCH v2 1/3] x",
                "Re: [PATCH 0/2] y",
                "=?utf-8?b?w6nDqQ==?=",
                "=?bogus?q?=FF=FE?=",
                "<script>alert(1)</script>",
                "\x00\x01\x7f",
                "a" * 300,
                "<a@b> <c@d>",
            ]
        ),
    )


header_values = _text()


@st.composite
def headers(draw) -> list[tuple[str, str]]:
    fixed = [
        ("Message-Id", draw(st.sampled_from(["<fuzz@example.org>", "", "<>", "nobrackets"]))),
        ("From", draw(st.sampled_from(["A <a@example.org>", "", "no address", "=?x?q?a?="]))),
        ("List-Id", f"<{LIST_ID}>"),
        ("Subject", draw(header_values)),
    ]
    extra = draw(st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), header_values), max_size=6))
    return [(k, v) for k, v in fixed + extra if "\n" not in v and "\r" not in v]


@st.composite
def leaf(draw) -> bytes:
    ctype = draw(st.sampled_from(_TYPES[:5]))
    charset = draw(st.sampled_from(_CHARSETS))
    body = draw(st.one_of(st.just(_DIFF), _text(), st.binary(max_size=200)))
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    cte = draw(st.sampled_from(["", "base64", "quoted-printable", "8bit", "x-bogus"]))
    if cte == "base64":
        data = base64.encodebytes(data) if draw(st.booleans()) else data + b"!!"
    elif cte == "quoted-printable":
        data = quopri.encodestring(data)
    head = f"Content-Type: {ctype}" + (f'; charset="{charset}"' if charset else "")
    if cte:
        head += f"\nContent-Transfer-Encoding: {cte}"
    return head.encode() + b"\n\n" + data


def _multipart(children: list[bytes], boundary: str) -> bytes:
    parts = b"".join(b"--" + boundary.encode() + b"\n" + child + b"\n" for child in children)
    return (
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode()
        + parts
        + f"--{boundary}--\n".encode()
    )


mime_body = st.recursive(
    leaf(),
    lambda children: st.builds(
        _multipart, st.lists(children, min_size=1, max_size=3), st.sampled_from(["b1", "b2", "="])
    ),
    max_leaves=6,
)


@st.composite
def mails(draw) -> bytes:
    """A whole message: hostile headers over a (possibly nested, possibly broken) body."""
    head = "\n".join(f"{k}: {v}" for k, v in draw(headers()))
    return head.encode("utf-8", "surrogatepass") + b"\n" + draw(mime_body)


@st.composite
def mutated_real_mails(draw) -> bytes:
    """A real mail file with bytes flipped, cut or inserted."""
    raw = bytearray(draw(st.sampled_from(REAL_MAILS)))
    for _ in range(draw(st.integers(0, 8))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + draw(st.integers(1, 64))]
        else:
            raw[at:at] = draw(st.sampled_from([b"\n", b"\x00", b"=?", b"--", b"\n\n", b"\xff"]))
    return bytes(raw)


any_mail = st.one_of(mails(), mutated_real_mails(), st.binary(max_size=300))
