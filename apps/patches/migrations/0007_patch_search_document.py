"""The search document of a patch, stored (issue 22): a generated column instead of the
expression index of 0005.

PostgreSQL computes ``search_document`` when a patch is inserted (or its name,
commit message or diff change) from the same expression the index of 0005 was
built on, and the GIN index is on the column. Any writer fills it — the ORM, the
batched archive writer, COPY — without knowing of it; the model does not declare
it, so no query reads it but the search's. Why: a search that checks rows (a lossy
bitmap, a common word) reads the stored document instead of parsing each such
patch's diff again (about 5 ms a patch), and a state change no longer computes it
again for the index (2.6 -> 1.0 ms an UPDATE); an insert costs about 1 ms more
(docs/benchmarks.md, "Index maintenance"). Adding the column computes it for
every patch once: minutes on a large database. PostgreSQL only.
"""

from django.db import migrations

DOCUMENT = (
    "to_tsvector('simple'::regconfig, COALESCE(name, '') || ' ' || COALESCE(content, '') "
    "|| ' ' || translate(regexp_replace(COALESCE(diff, ''), '^(?!diff --git ).*$', '', 'gn'), "
    "'/', ' '))"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE patches_patch ADD COLUMN IF NOT EXISTS search_document tsvector "
        f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS patch_search_document ON patches_patch "
        "USING gin (search_document)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS patch_fulltext_search")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS patch_fulltext_search ON patches_patch USING gin (({DOCUMENT}))"
    )
    schema_editor.execute("ALTER TABLE patches_patch DROP COLUMN IF EXISTS search_document")


class Migration(migrations.Migration):
    dependencies = [
        ("patches", "0006_person_search_trigram_indexes"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
