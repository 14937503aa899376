"""Full-text search over patches (apps/patches/search.py): one GIN expression index.

The indexed expression is ``SEARCH_DOCUMENT`` of apps/patches/search.py with
plain column names: name, commit message, and the paths of the diff. PostgreSQL
only; other databases search without it.
"""

from django.db import migrations

INDEX = "patch_fulltext_search"
DOCUMENT = (
    "to_tsvector('simple'::regconfig, COALESCE(name, '') || ' ' || COALESCE(content, '') "
    "|| ' ' || translate(regexp_replace(COALESCE(diff, ''), '^(?!diff --git ).*$', '', 'gn'), "
    "'/', ' '))"
)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON patches_patch USING gin (({DOCUMENT}))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("patches", "0004_patch_list_by_id_and_name_search_indexes"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
