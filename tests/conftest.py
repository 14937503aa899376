"""Shared fixtures: default data, named personas, the frob project and its git tree,
and real servers and browsers for end-to-end tests (tests/servers.py, tests/browsers.py).

Passwords are hashed with MD5 in every test process (tests/pytest_env.py sets
TEST_FAST_PASSWORD_HASHER); no test module needs to say so again.
"""

from __future__ import annotations

import importlib

import pytest
from django.db.models.signals import post_migrate

from tests.browsers import chromium
from tests.factories import make_person, make_project, make_user
from tests.mails import make_base_repo
from tests.servers import Daphne, process_env

# The default states and tags are installed by a migration, so every test database has them.
# Transactional tests flush the tables afterwards; Django then sends post_migrate, and this
# puts the defaults back, whichever connection or thread the next test uses.


def _restore_default_data(sender, using="default", **kwargs):
    if sender.name != "apps.projects":
        return
    from django.apps import apps

    migration = importlib.import_module("apps.projects.migrations.0002_default_states_and_tags")
    migration.load(apps, None)


post_migrate.connect(_restore_default_data, dispatch_uid="tests-restore-default-data")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, tmp_path_factory):
    """On SQLite, keep the test database in a file that server subprocesses can open."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and other cached values never leak from one test into the next."""
    from django.core.cache import cache

    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        # Redis: delete only our keys; the same database also carries the broker and layer.
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _fresh_worker_context():
    """A worker's shared ingestion context (cached people, tags) never outlives a test's rows."""
    import apps.mail.context

    apps.mail.context._worker_context = None


@pytest.fixture(autouse=True)
def _fresh_webhook_bodies():
    """Test transactions roll back, so event ids come again: no test sees another's bodies."""
    import apps.webhooks.delivery

    apps.webhooks.delivery._BODY_CACHE.clear()


@pytest.fixture
def maintainer(db):
    return make_user("maintainer", first_name="Mae", last_name="Maintainer")


@pytest.fixture
def submitter_user(db):
    return make_user("submitter")


@pytest.fixture
def submitter(submitter_user):
    """The Person behind a submitter's mail, linked to their account."""
    return make_person(submitter_user.email, name="Sam Submitter", user=submitter_user)


@pytest.fixture
def stranger(db):
    return make_user("stranger")


@pytest.fixture
def superuser(db):
    return make_user("admin", is_superuser=True, is_staff=True)


@pytest.fixture
def project(maintainer):
    return make_project("demo", name="Demo", maintainers=[maintainer])


@pytest.fixture
def frob(maintainer):
    """The project the test mails are sent to (List-Id frob.lists.example.org)."""
    return make_project(
        "frob",
        name="Frobnicator",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer],
    )


@pytest.fixture
def base_repo(tmp_path):
    """A git repository holding the tree the test mails apply to."""
    return make_base_repo(tmp_path / "frob")


def _daphne(tmp_path_factory, name: str):
    server = Daphne(process_env(), tmp_path_factory.mktemp(name) / "daphne.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, tmp_path_factory):
    """One daphne over the test database for the whole session (its tests are `live`)."""
    yield from _daphne(tmp_path_factory, "daphne")


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """A daphne over the test database for one test module (browser tests)."""
    yield from _daphne(tmp_path_factory, "server")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (mark its tests `needs_chromium`)."""
    with chromium() as browser:
        yield browser
