"""Trigram indexes for the people a search word may name (apps/patches/search.py).

Every free word of a patch search also matches submitters whose name or address
contains it (``UPPER(name) LIKE '%WORD%'``); without an index that read every
person for every word, a cost growing with the archive. On ``projects_person``,
but here with the search that needs them; PostgreSQL with pg_trgm only (see 0004).
"""

from django.db import migrations

INDEXES = {
    "person_name_trgm": "UPPER(name::text) gin_trgm_ops",
    "person_email_trgm": "UPPER(email::text) gin_trgm_ops",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:  # 0004 could not create it: searches stay unindexed
            return
        for name, expression in INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON projects_person USING gin ({expression})"
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("patches", "0005_patch_fulltext_search"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
