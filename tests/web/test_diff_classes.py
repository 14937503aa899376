"""The patch page classes diff lines itself, as Pygments' DiffLexer did (it was the
page's costliest step): the same class for every line of every diff in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.web.patches.diff import _highlight, line_class
from apps.web.templatetags.patchwork import mail_body

pygments_lexers = pytest.importorskip("pygments.lexers")
pygments_token = pytest.importorskip("pygments.token")

DATA = Path(__file__).resolve().parents[1] / "data"
TOKEN_CLASS = {
    pygments_token.Generic.Inserted: "gi",
    pygments_token.Generic.Deleted: "gd",
    pygments_token.Generic.Subheading: "gu",
    pygments_token.Generic.Heading: "gh",
    pygments_token.Generic.Strong: "gs",
}


def pygments_classes(lines: list[str]) -> list[str]:
    """Each line's class from the first classed token Pygments gives it."""
    lexer = pygments_lexers.DiffLexer(stripnl=False, ensurenl=True)
    classes, current, text = [], "", ""
    for token, value in lexer.get_tokens("\n".join(lines) + "\n"):
        current = current or TOKEN_CLASS.get(token, "")
        *done, text = (text + value).split("\n")
        for _ in done:
            classes.append(current)
            current = ""
    return classes


def diff_lines() -> list[list[str]]:
    found = []
    for path in sorted(DATA.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace").replace("\r", "")
        if "\n--- " in text and "\n+++ " in text:
            found.append(text.split("\n"))
    return found


EDGE_CASES = [
    "---", "--- a/x", "+++ b/x", "-", "+", "< old", "> new", "!changed", "@@ -1 +1 @@",
    "1a2", "1,3c4", "12a13", "Index: x", "index 1..2", "diff --git a/x b/x", "=====",
    " context", "\\ No newline at end of file", "", "plain text",
]  # fmt: skip


def test_every_line_gets_the_class_pygments_gave_it():
    corpora = diff_lines()
    assert len(corpora) > 10
    for lines in [EDGE_CASES, *corpora]:
        assert [line_class(line) for line in lines] == pygments_classes(lines)


def test_file_headers_before_a_hunk_are_headings_and_text_is_escaped():
    html = _highlight(["--- a/<x>", "+++ b/<x>", "@@ -1 +1 @@", "--- not a header", "+<b>"])
    assert html.split("\n") == [
        '<span class="gh">--- a/&lt;x&gt;</span>',
        '<span class="gh">+++ b/&lt;x&gt;</span>',
        '<span class="gu">@@ -1 +1 @@</span>',
        '<span class="gd">--- not a header</span>',
        '<span class="gi">+&lt;b&gt;</span>',
    ]


def test_crlf_ends_and_empty_lines_escaped_line_by_line():
    html = _highlight(["@@ -1 +1 @@\r", "-a & b\r", "\r", "+'\"x\"'"])
    assert html.split("\n") == [
        '<span class="gu">@@ -1 +1 @@</span>',
        '<span class="gd">-a &amp; b</span>',
        '<span class=""> </span>',
        '<span class="gi">+&#x27;&quot;x&quot;&#x27;</span>',
    ]


def test_mail_body_quotes_only_lines_quoted_in_the_mail():
    html = mail_body("> quoted <b>\n&gt; typed as an entity\nplain & simple")
    assert html.split("\n") == [
        '<span class="quote">&gt; quoted &lt;b&gt;</span>',
        "&amp;gt; typed as an entity",
        "plain &amp; simple",
    ]
