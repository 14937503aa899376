"""Data safety of the schema: migrations reverse cleanly and move populated databases forward.

Generic over whatever migrations exist: every app's latest migration is undone
and redone on a database holding rows written through the previous schema.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.events.models import Event
from apps.mail.models import IncomingMail
from apps.patches.models import Patch
from apps.projects.models import Project, State
from apps.webhooks.models import Delivery, Webhook
from tests.factories import make_patch, make_project, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="migrations are tested on PostgreSQL, the production database (SQLite rebuilds "
        "tables on every schema change: minutes on this suite's budget)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OUR_APPS = ("projects", "patches", "series", "mail", "checks", "events", "webhooks")


def executor() -> MigrationExecutor:
    return MigrationExecutor(connection)


def leaves() -> list[tuple[str, str]]:
    return [node for node in executor().loader.graph.leaf_nodes()]


def migrate(targets: list[tuple[str, str | None]]):
    """Migrate to targets; returns the historical apps of the resulting state."""
    executor().migrate(targets)
    if any(name is None for _, name in targets):
        return None
    return executor().loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def back_to_latest():
    """Whatever happens in a test, leave the database on the latest schema."""
    latest = leaves()
    yield
    migrate(latest)


def test_every_migration_reverses_and_reapplies_on_a_populated_database():
    maintainer = make_user("m")
    make_patch(make_project("rev", maintainers=[maintainer]))
    latest = leaves()
    migrate([(app, None) for app in OUR_APPS])  # every migration of ours, undone
    tables = connection.introspection.table_names()
    assert not [t for t in tables if t.split("_")[0] in OUR_APPS], tables
    migrate(latest)
    # The schema works again, with the default states and tags the migrations install.
    assert State.objects.filter(slug="new").exists()
    make_patch(make_project("again"))
    assert Patch.objects.count() == 1


def previous_targets() -> list[tuple[str, str]]:
    """The migration before each of our apps' latest one (unless that one is initial)."""
    loader = executor().loader
    targets = []
    for app, name in loader.graph.leaf_nodes():
        # Initial migrations split across files ship together: one release never has half.
        if app not in OUR_APPS or loader.disk_migrations[(app, name)].initial:
            continue
        node = loader.graph.node_map[(app, name)]
        parents = [p.key for p in node.parents if p.key[0] == app]
        if parents:
            targets.append(parents[0])
    return targets


def whole_state(targets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Targets for every app: the given ones, every other app at its latest migration."""
    moved = {app for app, _ in targets}
    return targets + [node for node in leaves() if node[0] not in moved]


def create(model, **fields):
    """A row through a historical model, with only the fields that model has."""
    known = {f.name for f in model._meta.get_fields()}
    return model.objects.create(**{k: v for k, v in fields.items() if k in known})


def test_forward_migrations_keep_rows_written_by_the_previous_schema():
    latest = leaves()
    targets = previous_targets()
    assert targets, "no app has more than one migration: nothing to test"
    old = migrate(whole_state(targets))
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    user = create(old.get_model("projects", "User"), username="old", email="old@example.org")
    project = create(
        old.get_model("projects", "Project"),
        linkname="old", name="Old", listid="old.example.org", listemail="old@example.org",
    )  # fmt: skip
    person = create(old.get_model("projects", "Person"), email="p@example.org", name="P")
    state = old.get_model("projects", "State").objects.get(slug="new")
    patch = create(
        old.get_model("patches", "Patch"),
        project=project, msgid="<old@example.org>", name="[PATCH] old", submitter=person,
        state=state, date=now, content="body", diff="diff", headers="",
    )  # fmt: skip
    create(
        old.get_model("mail", "IncomingMail"), raw=b"raw mail", msgid="<old@example.org>",
        status="parsed", received=now,
    )  # fmt: skip
    create(
        old.get_model("events", "Event"), category="patch-created", project=project,
        patch=patch, date=now,
    )  # fmt: skip
    webhook = create(
        old.get_model("webhooks", "Webhook"), owner=user, url="https://h.example.org/",
        secret="whsec_x", created=now,
    )  # fmt: skip
    create(
        old.get_model("webhooks", "Delivery"), webhook=webhook, category="ping",
        message_id="msg_old", status="succeeded", created=now, next_attempt_at=now,
    )  # fmt: skip

    migrate(latest)
    patch = Patch.objects.get(msgid="<old@example.org>")
    assert (patch.project.linkname, patch.state.slug, patch.content) == ("old", "new", "body")
    assert bytes(IncomingMail.objects.get(msgid="<old@example.org>").raw) == b"raw mail"
    assert Event.objects.filter(patch=patch, category="patch-created").count() == 1
    delivery = Delivery.objects.get(message_id="msg_old")
    assert delivery.status == "succeeded" and delivery.webhook == Webhook.objects.get()
    assert Project.objects.get(linkname="old").maintainers.count() == 0
