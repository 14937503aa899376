"""Advance the id sequences past the default states and tags, inserted with explicit ids."""

from django.core.management.color import no_style
from django.db import migrations


def reset(apps, schema_editor):
    connection = schema_editor.connection
    models = [apps.get_model("projects", "State"), apps.get_model("projects", "Tag")]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_items_per_page_bounds")]
    operations = [migrations.RunPython(reset, migrations.RunPython.noop)]
