"""Install the default states and tags (the same data as the fixtures of that name)."""

import json
from pathlib import Path

from django.db import migrations

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(apps, schema_editor):
    for fixture in ("default_states.json", "default_tags.json"):
        for row in json.loads((FIXTURES / fixture).read_text()):
            model = apps.get_model(*row["model"].split("."))
            if not model.objects.filter(pk=row["pk"]).exists():
                model.objects.create(pk=row["pk"], **row["fields"])


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
