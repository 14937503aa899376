"""Indexes for lists at scale: pages by date or id found by index-only scans, `q` searches.

The trigram index serves ``name__icontains`` (UPPER(name) LIKE '%TERM%') on
PostgreSQL; it needs the pg_trgm extension (trusted: a database owner may
create it). Where the extension cannot be created the search still works, only
without the index. Other databases get neither.
"""

from django.db import migrations, models

TRGM_INDEX = "patch_name_trgm"


def create_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SAVEPOINT pg_trgm")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception:  # no privilege: searches stay correct, just unindexed
            cursor.execute("ROLLBACK TO SAVEPOINT pg_trgm")
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TRGM_INDEX} ON patches_patch "
            "USING gin (UPPER(name::text) gin_trgm_ops)"
        )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("patches", "0003_patch_change_notification"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="patch", name="patch_list_idx"),
        migrations.AddIndex(
            model_name="patch",
            index=models.Index(
                fields=["project", "archived", "state", "date", "id"], name="patch_list_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="patch",
            index=models.Index(
                fields=["project", "archived", "state", "id"], name="patch_list_by_id"
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
