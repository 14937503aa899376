"""An index on (project, id) for /api/events/?project=…&after=<id> (the cursor).

Without it a project's events after a cursor were found by walking the project's
whole history (``project_id`` alone) or every project's (the primary key), and the
list's bounded count read up to the project's every event. Plain SQL so the model
keeps its declared indexes (same on SQLite and PostgreSQL).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0002_initial"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS event_project_id ON events_event (project_id, id)",
            "DROP INDEX IF EXISTS event_project_id",
        )
    ]
