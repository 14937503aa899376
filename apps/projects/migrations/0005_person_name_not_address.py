"""People whose display name is their address had none: an earlier ingestion copied it.

Patchwork keeps no name for "From: a@example.org" (REST null); after this the
stored data says the same.
"""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Lower


def clear(apps, schema_editor):
    Person = apps.get_model("projects", "Person")
    Person.objects.annotate(lower_name=Lower("name"), lower_email=Lower("email")).filter(
        lower_name=F("lower_email")
    ).update(name="")


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_reset_default_data_sequences")]
    operations = [migrations.RunPython(clear, migrations.RunPython.noop)]
