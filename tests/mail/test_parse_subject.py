"""Subjects: reply markers, prefixes, series markers, versions and Patchwork names."""

from __future__ import annotations

import pytest

from apps.mail.parse.subject import parse_subject


@pytest.mark.parametrize(
    ("subject", "name", "number", "total", "version", "reply"),
    [
        ("[PATCH] fix the frobnicator", "fix the frobnicator", None, None, 1, False),
        ("[PATCH v2 1/2] fix the frobnicator", "[v2,1/2] fix the frobnicator", 1, 2, 2, False),
        ("[PATCH V3 01/11] fix", "[V3,01/11] fix", 1, 11, 3, False),
        ("[PATCH1/8] glued marker", "[1/8] glued marker", 1, 8, 1, False),
        ("[PATCHv4 2/3] glued version", "[v4,2/3] glued version", 2, 3, 4, False),
        ("[PATCH 1 of 3] mercurial", "[1 of 3] mercurial", 1, 3, 1, False),
        ("[PATCH 0/3] cover", "[0/3] cover", 0, 3, 1, False),
        ("[RFC PATCH 2/5] rfc", "[RFC,2/5] rfc", 2, 5, 1, False),
        ("[PATCH,v2,3/4] commas", "[v2,3/4] commas", 3, 4, 2, False),
        ("[PATCH] [frob] project prefix", "project prefix", None, None, 1, False),
        (
            "[FROB][PATCH v2] project prefix, other case",
            "[v2] project prefix, other case",
            None,
            None,
            2,
            False,
        ),
        ("[PATCH] fix (v3)", "fix (v3)", None, None, 3, False),
        ("Re: [PATCH 1/3] fix", "[1/3] fix", 1, 3, 1, True),
        ("RE: Re: Fwd: [PATCH] fix", "fix", None, None, 1, True),
        ("Re[2]: [PATCH] fix", "fix", None, None, 1, True),
        ("Fw: [PATCH] fix", "fix", None, None, 1, True),
        ("[PATCH] Re: a patch about replies", "Re: a patch about replies", None, None, 1, False),
        ("[GIT PULL] for 1.1", "[GIT,PULL] for 1.1", None, None, 1, False),
        ("  [PATCH]   spaces\tand  tabs  ", "spaces and tabs", None, None, 1, False),
        ("Release planning", "Release planning", None, None, 1, False),
        ("", "", None, None, 1, False),
        ("[PATCH 2/0] nonsense total", "[2/0] nonsense total", None, None, 1, False),
    ],
)
def test_subject(subject, name, number, total, version, reply):
    parsed = parse_subject(subject)
    assert parsed.name(drop=("frob",)) == name
    assert (parsed.number, parsed.total, parsed.version, parsed.is_reply) == (
        number,
        total,
        version,
        reply,
    )


def test_title_has_no_prefixes():
    assert parse_subject("Re: [PATCH v2 0/3] Fix the frobnicator").title == "Fix the frobnicator"


def test_prefixes_are_kept_in_order_once():
    assert parse_subject("[PATCH RFC] [RFC v2] x").prefixes == ("PATCH", "RFC", "v2")
