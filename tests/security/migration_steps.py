"""Steps of the migration tests, run in a subprocess against a scratch database of their own.

    python -m tests.security.migration_steps STEP   (DATABASE_URL: the scratch database)

Prints one JSON value. Kept out of the test database so migrating it back and forth
cannot disturb the rest of the suite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

OUR_APPS = ("projects", "patches", "series", "mail", "checks", "events", "webhooks")


def executor() -> MigrationExecutor:
    return MigrationExecutor(connection)


def leaves() -> list[tuple[str, str]]:
    return list(executor().loader.graph.leaf_nodes())


def previous() -> list[tuple[str, str]]:
    """Every app at its latest migration, except ours step back one (unless that is initial).

    An app steps back further while its target needs a migration another app steps back
    from (a cross-app dependency): Django migrates to a set of targets in one direction only.
    """
    loader = executor().loader
    graph = loader.graph
    targets = {}
    for app, name in graph.leaf_nodes():
        node = graph.node_map[(app, name)]
        parents = [p.key for p in node.parents if p.key[0] == app]
        # Initial migrations split across files ship together: one release never has half.
        if app in OUR_APPS and parents and not loader.disk_migrations[(app, name)].initial:
            targets[app] = parents[0]
        else:
            targets[app] = (app, name)
    changed = True
    while changed:
        changed = False
        kept = {key for target in targets.values() for key in _own_plan(graph, target)}
        for app, target in targets.items():
            needs = set(graph.forwards_plan(target))
            if any(key[0] != app and key not in kept for key in needs):
                node = graph.node_map[target]
                parents = [p.key for p in node.parents if p.key[0] == app]
                if parents:
                    targets[app] = parents[0]
                    changed = True
    return list(targets.values())


def _own_plan(graph, target: tuple[str, str]) -> list[tuple[str, str]]:
    """The migrations of target's app up to it."""
    return [key for key in graph.forwards_plan(target) if key[0] == target[0]]


def migrate(targets) -> None:
    executor().migrate([tuple(t) for t in targets])


def step_latest():
    migrate(leaves())
    return "ok"


def step_zero():
    migrate([(app, None) for app in OUR_APPS])
    return [t for t in connection.introspection.table_names() if t.split("_")[0] in OUR_APPS]


def step_previous():
    targets = previous()
    migrate(targets)
    return [list(t) for t in targets if t not in leaves()]


def step_populate_current():
    from tests.factories import make_patch, make_project, make_user

    make_patch(make_project("rev", maintainers=[make_user("m")]))
    return "ok"


def step_check_current():
    from apps.patches.models import Patch
    from apps.projects.models import State
    from tests.factories import make_patch, make_project

    make_patch(make_project("again"))
    return {"states": State.objects.filter(slug="new").count(), "patches": Patch.objects.count()}


def _create(model, **fields):
    known = {f.name for f in model._meta.get_fields()}
    return model.objects.create(**{k: v for k, v in fields.items() if k in known})


def step_populate_old():
    """Rows written through the historical models of the schema now applied."""
    old = executor().loader.project_state(previous()).apps
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    user = _create(old.get_model("projects", "User"), username="old", email="old@example.org")
    project = _create(
        old.get_model("projects", "Project"),
        linkname="old", name="Old", listid="old.example.org", listemail="old@example.org",
    )  # fmt: skip
    person = _create(old.get_model("projects", "Person"), email="p@example.org", name="P")
    state = old.get_model("projects", "State").objects.get(slug="new")
    patch = _create(
        old.get_model("patches", "Patch"),
        project=project, msgid="<old@example.org>", name="[PATCH] old", submitter=person,
        state=state, date=now, content="body", diff="diff", headers="",
    )  # fmt: skip
    _create(
        old.get_model("mail", "IncomingMail"), raw=b"raw mail", msgid="<old@example.org>",
        status="parsed", received=now,
    )  # fmt: skip
    _create(
        old.get_model("events", "Event"), category="patch-created", project=project,
        patch=patch, date=now,
    )  # fmt: skip
    webhook = _create(
        old.get_model("webhooks", "Webhook"), owner=user, url="https://h.example.org/",
        secret="whsec_x", created=now,
    )  # fmt: skip
    _create(
        old.get_model("webhooks", "Delivery"), webhook=webhook, category="ping",
        message_id="msg_old", status="succeeded", created=now, next_attempt_at=now,
    )  # fmt: skip
    return "ok"


def step_check_old():
    from apps.events.models import Event
    from apps.mail.models import IncomingMail
    from apps.patches.models import Patch
    from apps.webhooks.models import Delivery

    patch = Patch.objects.select_related("project", "state").get(msgid="<old@example.org>")
    delivery = Delivery.objects.select_related("webhook").get(message_id="msg_old")
    return {
        "patch": [patch.project.linkname, patch.state.slug, patch.content],
        "raw": bytes(IncomingMail.objects.get(msgid="<old@example.org>").raw).decode(),
        "events": Event.objects.filter(patch=patch, category="patch-created").count(),
        "delivery": [delivery.status, delivery.webhook.url, delivery.attempts],
    }


if __name__ == "__main__":
    result = globals()[f"step_{sys.argv[1].replace('-', '_')}"]()
    sys.stdout.write(json.dumps(result))
