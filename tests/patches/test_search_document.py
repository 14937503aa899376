"""The stored search document (migrations 0007, 0008): PostgreSQL fills it, from the diff's
paths Python computed (``Patch.search_paths``), and it is the document the old expression
computed from the diff with its regexp, for every writer; searches find what they found."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.patches.document import diff_search_text
from apps.patches.models import Patch
from apps.patches.search import SEARCH_DOCUMENT
from tests.factories import make_patch, make_person

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's full-text search"),
]

# The document as the expression index of 0005 and the column of 0007 computed it: the
# diff's 'diff --git' lines picked by PostgreSQL's regexp. What every search must still see.
OLD = importlib.import_module("apps.patches.migrations.0007_patch_search_document").DOCUMENT
NEW = importlib.import_module("apps.patches.migrations.0008_patch_search_paths")
EXPRESSION = SEARCH_DOCUMENT.format(
    name="name", content="content", diff="diff", search_paths="search_paths"
)
DIFF = """\
diff --git a/drivers/net/wombat.c b/drivers/net/wombat.c
index 1111111..2222222 100644
--- a/drivers/net/wombat.c
+++ b/drivers/net/wombat.c
@@ -1 +1,2 @@
 int wombat;
+int numbat; /* not a path: never searched */
"""
# Words found only through the document: in a commit message, a directory, a file name.
WORDS = ["quokka", "drivers", "wombat.c", "net", "numbat", "signed", "quokka drivers"]
BINARY = """\
diff --git a/img/logo.png b/img/logo.png
new file mode 100644
index 0000000000000000000000000000000000000000..1111111111111111111111111111111111111111
GIT binary patch
literal 12
TcmZ?wbhEHbRA6LaU;qFB2uA<_

literal 0
HcmV?d00001

"""
# Diffs whose lines the regexp and Python could read differently.
TRICKY = {
    "crlf": DIFF.replace("\n", "\r\n"),
    "not at line start": "x diff --git a/hidden b/hidden\n diff --git a/no b/no\n" + DIFF,
    "no trailing newline": DIFF + "diff --git a/last/one.c b/last/one.c",
    "only the marker": "diff --git \ndiff --git\ndiff --gitx a b\nDiff --git a/c b/c\n",
    "carriage returns": "\rdiff --git a/cr b/cr\ndiff --git a/x\rb b/y\r\n\r\n\n\n",
    "unicode names": "diff --git a/docs/ñandú/café.rst b/docs/ñandú/café.rst\n"
    "diff --git a/😀/ж.c b/😀/ж.c\u2028diff --git a/ls/sep b/ls/sep\n",
    "binary": BINARY,
    "empty": "",
    "none": None,
    "blank lines": "\n\n\n",
    "very long": DIFF * 2000 + "diff --git a/" + "deep/" * 500 + "x b/" + "y" * 3000 + "\n",
}
CONTENT = "Move it.\n\ndiff --git a/in/the/message b/in/the/message\n> diff --git a/quoted b/q\n"


def document_of(name: str, content: str, diff: str | None, expression: str) -> str:
    """An expression of the patch columns evaluated by PostgreSQL on given strings."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ({expression})::text FROM (VALUES (%s, %s, %s::text, %s)) "
            "AS patches_patch(name, content, diff, search_paths)",
            [name, content, diff, diff_search_text(diff)],
        )
        return cursor.fetchone()[0]


def different_documents() -> tuple[int, int]:
    """(patches, patches whose stored document is not the old expression's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE search_document IS DISTINCT FROM "
            f"{OLD}) FROM patches_patch"
        )
        return cursor.fetchone()


def expression_matches(word: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM patches_patch WHERE {OLD} @@ plainto_tsquery('simple'::regconfig, %s)",
            [word],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def patches(project):
    ada = make_person("ada@example.org", name="Ada Lovelace")
    made = [
        make_patch(project, name="first", content="The quokka was here.", diff=DIFF, submitter=ada),
        make_patch(project, name="second", content="Nothing to see.", diff=DIFF, submitter=ada),
        make_patch(project, name="third", content="quokka, no diff", diff=None, submitter=ada),
        make_patch(
            project, name="fourth", content="", diff=DIFF.replace("net/", ""), submitter=ada
        ),
    ]
    # Changed after it was written: the document follows.
    made[1].content = "Signed-off-by: someone"
    made[1].save(update_fields=["content"])
    Patch.objects.filter(pk=made[3].pk).update(diff=DIFF.replace("wombat", "koala"))
    return made


def test_the_stored_document_is_the_old_expression_for_every_patch(patches):
    assert different_documents() == (len(patches), 0)


def test_the_model_computes_the_diffs_paths(patches):
    # Not the regexp's fallback: the column is filled, and is what the document reads.
    stored = dict(Patch.objects.values_list("pk", "search_paths"))
    assert stored == {p.pk: diff_search_text(Patch.objects.get(pk=p.pk).diff) for p in patches}
    assert stored[patches[0].pk] == ("diff --git a drivers net wombat.c b drivers net wombat.c")
    assert stored[patches[2].pk] == ""  # no diff


@pytest.mark.parametrize("case", TRICKY)
def test_tricky_diffs_keep_their_document(project, case):
    ada = make_person("ada@example.org")
    patch = make_patch(project, name="tricky/ñ", content=CONTENT, diff=TRICKY[case], submitter=ada)
    assert patch.search_paths is not None
    assert different_documents() == (1, 0)


def test_the_python_text_is_the_regexps_lines():
    # The same lines as the regexp keeps, without the lines it empties.
    with connection.cursor() as cursor:
        for case, diff in TRICKY.items():
            cursor.execute(
                "SELECT translate(regexp_replace(COALESCE(%s::text, ''), "
                "'^(?!diff --git ).*$', '', 'gn'), '/', ' ')",
                [diff],
            )
            kept = [line for line in cursor.fetchone()[0].split("\n") if line]
            assert diff_search_text(diff).split("\n") == (kept or [""]), case


LINE = st.one_of(
    st.builds(
        "diff --git a/{} b/{}".format,
        st.text("aé/._-ü0 \r\t", max_size=12),
        st.text("bß/.+ \r", max_size=12),
    ),
    st.builds(
        str.__add__,
        st.sampled_from(["", " ", "+", "-", "@@ ", "diff --git", "diff --git ", " diff --git "]),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")),
    ),
)
DIFFS = st.builds(
    lambda lines, newline, end: newline.join(lines) + end,
    st.lists(LINE, max_size=10),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["", "\n", "\r\n"]),
)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure is reproducible
    suppress_health_check=[HealthCheck.too_slow],
)
@given(name=st.text(max_size=10), content=DIFFS, diff=st.none() | DIFFS)
def test_any_diff_has_the_old_document(name, content, diff):
    name, content = name.replace("\x00", ""), content.replace("\x00", "")
    assert document_of(name, content, diff, NEW.DOCUMENT) == document_of(name, content, diff, OLD)


def test_every_writer_gets_the_document(project):
    ada = make_person("ada@example.org")
    made = make_patch(project, diff=DIFF, submitter=ada)
    made.diff = TRICKY["crlf"]
    made.save(update_fields=["diff"])
    bulk = Patch.objects.bulk_create(
        [
            Patch(
                project=project,
                msgid="<bulk@x>",
                name="bulk",
                diff=BINARY,
                submitter=ada,
                state=made.state,
            )
        ]
    )[0]
    Patch.objects.filter(pk=bulk.pk).update(diff=TRICKY["unicode names"])
    other = make_patch(project, diff=DIFF, submitter=ada)
    other.diff = TRICKY["no trailing newline"]
    Patch.objects.bulk_update([other], ["diff"])
    # An expression is not known to Python: NULL, and the document computes it in SQL.
    Patch.objects.filter(pk=made.pk).update(diff=Concat(F("diff"), Value(TRICKY["binary"])))
    with connection.cursor() as cursor:  # a writer that does not know of the column
        cursor.execute(
            "INSERT INTO patches_patch (msgid, date, headers, content, project_id, name, "
            "submitter_id, diff, state_id, archived) SELECT '<raw@x>', date, '', content, "
            "project_id, 'raw', submitter_id, %s, state_id, false FROM patches_patch "
            "WHERE id = %s",
            [TRICKY["not at line start"], made.pk],
        )
    paths = dict(Patch.objects.values_list("name", "search_paths"))
    assert paths["bulk"] == diff_search_text(TRICKY["unicode names"])
    assert paths[other.name] == diff_search_text(TRICKY["no trailing newline"])
    assert paths[made.name] is None and paths["raw"] is None
    assert different_documents() == (4, 0)


def test_the_migration_backfills_what_python_computes(project):
    ada = make_person("ada@example.org")
    for case, diff in TRICKY.items():
        make_patch(project, name=case, diff=diff, submitter=ada)
    Patch.objects.update(search_paths=None)
    with connection.cursor() as cursor:
        cursor.execute(NEW.BACKFILL)
    for diff, paths in Patch.objects.values_list("diff", "search_paths"):
        assert paths == diff_search_text(diff)
    assert different_documents() == (len(TRICKY), 0)


def test_the_migration_stores_the_searchs_expression():
    assert NEW.DOCUMENT == EXPRESSION
    assert "search_paths" in NEW.DOCUMENT


@pytest.mark.parametrize("word", WORDS)
def test_rest_q_and_the_list_page_find_what_the_expression_found(client, project, patches, word):
    expected = expression_matches(word)

    response = client.get("/api/1.4/patches/", {"q": word})
    assert response.status_code == 200
    assert {p["id"] for p in response.json()} == expected

    page = client.get(
        reverse("patch-list", args=[project.linkname]),
        {"q": word, "state": "*", "archive": "both"},
    )
    shown = {p.pk for p in patches if f">{p.name}</a>" in page.content.decode()}
    assert shown == expected


def test_the_words_tell_the_patches_apart(patches):
    # Else the test above would hold for a search that finds everything or nothing.
    found = {word: expression_matches(word) for word in WORDS}
    assert set() < found["quokka"] < {p.pk for p in patches}
    assert found["numbat"] == set()
    assert len({frozenset(ids) for ids in found.values()}) >= 4
