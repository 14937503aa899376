"""The search document without the regexp (issue 22): the diff's part computed by Python.

The document of 0007 picked the diff's ``diff --git`` lines with a per-line regexp in
PostgreSQL: two thirds of the cost of inserting a patch. ``search_paths`` holds those
lines ('/' as ' '), computed by the model when a patch is written
(apps/patches/document.py), and the generated column reads it. Where it is NULL (a row
written behind the ORM's back) the document computes it from the diff as before, so
the document is the same either way (tests/patches/test_search_document.py).

PostgreSQL: the column is filled for the existing patches by one UPDATE (the same
lines, split and filtered in SQL: about 3x cheaper than the regexp) before the
document is added again, computed once from it. Elsewhere (SQLite, which searches by
substring) only the column is filled.
"""

from django.db import migrations

import apps.patches.document
from apps.patches.document import diff_search_text

# As in apps/patches/search.py (SEARCH_DOCUMENT); the regexp only where search_paths is NULL.
DOCUMENT = (
    "to_tsvector('simple'::regconfig, COALESCE(name, '') || ' ' || COALESCE(content, '') "
    "|| ' ' || COALESCE(search_paths, translate(regexp_replace(COALESCE(diff, ''), "
    "'^(?!diff --git ).*$', '', 'gn'), '/', ' ')))"
)
# 0007's, to go back to.
OLD_DOCUMENT = (
    "to_tsvector('simple'::regconfig, COALESCE(name, '') || ' ' || COALESCE(content, '') "
    "|| ' ' || translate(regexp_replace(COALESCE(diff, ''), '^(?!diff --git ).*$', '', 'gn'), "
    "'/', ' '))"
)
# diff_search_text() in SQL: the lines that start with 'diff --git ', one a line.
BACKFILL = (
    "UPDATE patches_patch SET search_paths = translate(array_to_string(ARRAY("
    "SELECT line FROM unnest(string_to_array(diff, E'\\n')) AS line "
    "WHERE starts_with(line, 'diff --git ')), E'\\n'), '/', ' ')"
)


def _document(schema_editor, expression: str) -> None:
    schema_editor.execute("DROP INDEX IF EXISTS patch_search_document")
    schema_editor.execute("ALTER TABLE patches_patch DROP COLUMN IF EXISTS search_document")
    schema_editor.execute(
        "ALTER TABLE patches_patch ADD COLUMN search_document tsvector "
        f"GENERATED ALWAYS AS ({expression}) STORED"
    )
    schema_editor.execute(
        "CREATE INDEX patch_search_document ON patches_patch USING gin (search_document)"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Without the document first: the UPDATE would compute the old one for every row.
        schema_editor.execute("DROP INDEX IF EXISTS patch_search_document")
        schema_editor.execute("ALTER TABLE patches_patch DROP COLUMN IF EXISTS search_document")
        schema_editor.execute(BACKFILL)
        _document(schema_editor, DOCUMENT)
        return
    patch_model = apps.get_model("patches", "Patch")
    patch_model.objects.filter(diff=None).update(search_paths="")
    rows = patch_model.objects.exclude(diff=None).values_list("pk", "diff")
    for pk, diff in rows.iterator(chunk_size=500):
        patch_model.objects.filter(pk=pk).update(search_paths=diff_search_text(diff))


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _document(schema_editor, OLD_DOCUMENT)


class Migration(migrations.Migration):
    dependencies = [
        ("patches", "0007_patch_search_document"),
    ]

    operations = [
        migrations.AddField(
            model_name="patch",
            name="search_paths",
            field=apps.patches.document.DiffSearchField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(forwards, backwards),
    ]
