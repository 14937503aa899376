"""Headers stored verbatim (folding, encoded words, trailing spaces) for what was ingested
before: re-read from the raw mail kept in IncomingMail, where it is still there.

Rows without a kept mail keep the unfolded headers they had.
"""

from django.db import migrations

from apps.mail.parse.headers import headers_block

BATCH = 500


def _targets(apps):
    Patch = apps.get_model("patches", "Patch")
    Cover = apps.get_model("patches", "Cover")
    PatchComment = apps.get_model("patches", "PatchComment")
    CoverComment = apps.get_model("patches", "CoverComment")
    return [
        (Patch, "project_id"),
        (Cover, "project_id"),
        (PatchComment, "patch__project_id"),
        (CoverComment, "cover__project_id"),
    ]


def backfill(apps, schema_editor):
    IncomingMail = apps.get_model("mail", "IncomingMail")
    mails = IncomingMail.objects.filter(status="parsed", project__isnull=False).exclude(msgid="")
    last = 0
    while True:
        batch = list(
            mails.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "project_id", "msgid", "raw")[:BATCH]
        )
        if not batch:
            return
        last = batch[-1][0]
        headers = {(project, msgid): headers_block(bytes(raw)) for _, project, msgid, raw in batch}
        msgids = {msgid for _, msgid in headers}
        for model, project_field in _targets(apps):
            rows = model.objects.filter(msgid__in=msgids).values_list("pk", project_field, "msgid")
            changed = []
            for pk, project, msgid in rows:
                block = headers.get((project, msgid))
                if block is not None:
                    changed.append(model(pk=pk, headers=block))
            model.objects.bulk_update(changed, ["headers"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0004_inbox_cursor"),
        ("patches", "0006_person_search_trigram_indexes"),
    ]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
