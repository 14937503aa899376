"""The stored search document (migration 0007): PostgreSQL fills it from the expression the
search used to compute, for every writer, and searches find what they found before."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.urls import reverse

from apps.patches.models import Patch
from apps.patches.search import SEARCH_DOCUMENT
from tests.factories import make_patch, make_person

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's full-text search"),
]

# The document as the expression index of 0005 computed it, on every search that rechecked.
EXPRESSION = SEARCH_DOCUMENT.format(name="name", content="content", diff="diff")
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


def expression_matches(word: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM patches_patch WHERE {EXPRESSION} @@ "
            "plainto_tsquery('simple'::regconfig, %s)",
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


def test_the_stored_document_is_the_expression_for_every_patch(patches):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE search_document IS DISTINCT FROM "
            f"{EXPRESSION}) FROM patches_patch"
        )
        total, different = cursor.fetchone()
    assert (total, different) == (len(patches), 0)


def test_the_migration_stores_the_searchs_expression():
    migration = importlib.import_module("apps.patches.migrations.0007_patch_search_document")
    assert migration.DOCUMENT == EXPRESSION


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
