"""Trailers (tags) and Depends-on lines."""

from __future__ import annotations

from apps.mail.parse.depends import Dependency, parse_depends_on
from apps.mail.parse.tags import count_tags, find_trailers

PATTERNS = {1: "^Acked-by:", 2: "^Reviewed-by:", 3: "^Tested-by:"}


def test_trailers_at_line_start_only_and_normalised():
    text = (
        "Acked-by: Bob Builder <bob@example.org>\n"
        "> Acked-by: Quoted Person <q@example.org>\n"
        "acked-BY:\u00a0Bob  Builder <BOB@example.org>\n"
        "Reviewed-by: Carol <carol@example.org>\n"
        "Not-a-tag: x\n"
    )
    assert find_trailers(text, PATTERNS) == {
        (1, "bob builder <bob@example.org>"),
        (2, "carol <carol@example.org>"),
    }


def test_the_same_trailer_counts_once_across_patch_and_comments():
    patch = find_trailers("Acked-by: A <a@x>\nAcked-by: B <b@x>", PATTERNS)
    comment = find_trailers("Acked-by: A <a@x>\nTested-by: C <c@x>", PATTERNS)
    assert count_tags([patch, comment]) == {1: 2, 3: 1}


def test_a_broken_pattern_is_skipped():
    assert find_trailers("Acked-by: x", {1: "^Acked-by:(", 2: "^Acked-by:"}) == {(2, "x")}


def test_depends_on():
    content = (
        "Depends-on: <20240201.1-bob@example.org>\n"
        "Depends-on: https://pw.example.org/project/frob/list/?series=12\n"
        "Depends-on: https://pw.example.org/series/13/\n"
        "Depends-on: https://pw.example.org/project/frob/patch/20240202.2-bob@example.org/\n"
        "Depends-on: https://pw.example.org/patch/99/\n"
        "Depends-on: https://pw.example.org/cover/7/\n"
        "depends-on: bare.id@example.org\n"
        "Depends-on: something unclear\n"
        "> Depends-on: <quoted@example.org>\n"
    )
    assert parse_depends_on(content) == [
        Dependency(msgid="<20240201.1-bob@example.org>"),
        Dependency(series_id=12),
        Dependency(series_id=13),
        Dependency(msgid="<20240202.2-bob@example.org>"),
        Dependency(patch_id=99),
        Dependency(cover_id=7),
        Dependency(msgid="<bare.id@example.org>"),
    ]
