"""The patch page's SQL fast paths give what the plain Django paths give (apps/*/sql.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.checks.sql import checks_for_page, checks_read
from apps.events.models import Event
from apps.patches.models import PatchTag
from apps.patches.sql import (
    comments_read,
    patch_comments_for_page,
    patch_for_page,
    patch_tags_for_page,
    read_together,
    series_patches_for_nav,
    series_patches_read,
)
from apps.projects.models import Tag
from apps.series.sql import series_for_patch_page, series_read
from tests.factories import (
    make_check,
    make_cover,
    make_patch,
    make_patch_comment,
    make_person,
    make_series,
    make_user,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast paths are PostgreSQL's"),
]


def loaded(obj) -> dict | None:
    """The fields an instance was read with (deferred ones left out), by attname."""
    if obj is None:
        return None
    return {k: v for k, v in obj.__dict__.items() if not k.startswith("_")}


def same(fast, plain) -> None:
    assert type(fast) is type(plain)
    assert loaded(fast) == loaded(plain)


@pytest.fixture
def busy(project, maintainer):
    """Two revisions of a series with a cover and dependency, a patch with all page parts."""
    base = make_series(project, name="base")
    v1 = make_series(project, name="v1")
    cover = make_cover(project, name="the cover")
    v2 = make_series(project, name="v2", version=2, previous_revision=v1, cover=cover, total=3)
    v2.dependencies.add(base)
    make_series(project, name="v3", version=3, previous_revision=v2)
    make_series(project, name="v4", version=4, previous_revision=v2)  # the newest next one
    now = timezone.now()
    patch = make_patch(project, series=v2, number=2, delegate=maintainer, date=now)
    make_patch(project, series=v2, number=1, date=now - timedelta(minutes=1))
    make_patch(project, series=v2, number=None, date=now + timedelta(minutes=1))
    for addressed in (None, True, False):
        make_patch_comment(patch, addressed=addressed, submitter=make_person(user=make_user()))
    ci, other = make_user("ci"), make_user("other-ci")
    make_check(patch, ci, context="build", state="pending", date=now)
    make_check(patch, ci, context="build", state="fail", description="x", date=now)
    make_check(patch, other, context="build", target_url="https://ci.example.org/1")
    for name, count in (("Acked-by", 2), ("Reviewed-by", 0)):  # tags of the migrations
        PatchTag.objects.create(patch=patch, tag=Tag.objects.get(name=name), count=count)
    Event.objects.create(category=Event.PATCH_CREATED, project=project, patch=patch)
    return patch


def test_patch_with_its_relations(busy, project):
    for patch in (busy, make_patch(project)):  # with a delegate and without
        fast = patch_for_page(project.linkname, patch.msgid, fast=True)
        plain = patch_for_page(project.linkname, patch.msgid, fast=False)
        same(fast, plain)
        for relation in ("project", "submitter", "state", "delegate"):
            same(getattr(fast, relation), getattr(plain, relation))
    assert busy.delegate_id and plain.delegate is None
    # The tag counts come with the patch, as patch_tags_for_page reads them on its own.
    fast = patch_for_page(project.linkname, busy.msgid, fast=True)
    assert (
        fast.page_tags
        == patch_tags_for_page(busy.pk, fast=False)
        == [{"name": "Acked-by", "abbrev": Tag.objects.get(name="Acked-by").abbrev, "count": 2}]
    )
    assert patch_for_page(project.linkname, "<nope@x>", fast=True) is None
    assert patch_for_page("elsewhere", busy.msgid, fast=True) is None


def test_series_box(busy):
    for series_id in (busy.series_id, busy.series.previous_revision_id):
        fast = series_for_patch_page(series_id, fast=True)
        plain = series_for_patch_page(series_id, fast=False)
        assert loaded(fast).keys() - {"newer_revision_row"} == loaded(plain).keys() - {
            "newer_revision_row"
        }
        for name in ("id", "name", "version", "total", "cover_id", "previous_revision_id"):
            assert getattr(fast, name) == getattr(plain, name)
        assert fast.newer_revision == plain.newer_revision
        assert fast.has_dependencies == plain.has_dependencies
        same(fast.cover, plain.cover)
        assert (fast.previous_revision and fast.previous_revision.pk) == (
            plain.previous_revision and plain.previous_revision.pk
        )
    assert fast.newer_revision.name == "v2"
    assert series_for_patch_page(busy.series_id, fast=True).newer_revision.name == "v4"
    assert series_for_patch_page(0, fast=True) is None


def test_comments_checks_tags_and_series_patches(busy, project):
    pairs = [
        (patch_comments_for_page(busy.pk, fast=True), patch_comments_for_page(busy.pk, fast=False)),
        (checks_for_page(busy.pk, fast=True), checks_for_page(busy.pk, fast=False)),
        (
            series_patches_for_nav(busy.series_id, project, fast=True),
            series_patches_for_nav(busy.series_id, project, fast=False),
        ),
    ]
    for (fast, plain), expected in zip(pairs, (3, 2, 3), strict=True):  # checks: latest ones
        assert len(fast) == len(plain) == expected
        for f, p in zip(fast, plain, strict=True):
            same(f, p)
    for f, p in zip(pairs[0][0], pairs[0][1], strict=True):
        same(f.submitter, p.submitter)
    for f, p in zip(pairs[1][0], pairs[1][1], strict=True):
        assert f.user.username == p.user.username
    assert patch_tags_for_page(busy.pk, fast=True) == patch_tags_for_page(busy.pk, fast=False)
    assert patch_tags_for_page(busy.pk, fast=True) == [
        {"name": "Acked-by", "abbrev": Tag.objects.get(name="Acked-by").abbrev, "count": 2}
    ]


def test_the_page_reads_together_what_it_reads_one_by_one(busy, project):
    """The page's four reads after the patch's, sent in one round trip, give what each
    gives on its own."""
    comments, checks, nav, series = read_together(
        [
            comments_read(busy.pk),
            checks_read(busy.pk),
            series_patches_read(busy.series_id, project),
            series_read(busy.series_id),
        ]
    )
    pairs = [
        (comments, patch_comments_for_page(busy.pk, fast=False)),
        (checks, checks_for_page(busy.pk, fast=False)),
        (nav, series_patches_for_nav(busy.series_id, project, fast=False)),
    ]
    for fast, plain in pairs:
        assert len(fast) == len(plain) > 0
        for f, p in zip(fast, plain, strict=True):
            same(f, p)
    assert [c.submitter.email for c in comments] == [c.submitter.email for c in pairs[0][1]]
    assert [c.user.username for c in checks] == [c.user.username for c in pairs[1][1]]
    plain_series = series_for_patch_page(busy.series_id, fast=False)
    assert (series.pk, series.newer_revision, series.has_dependencies) == (
        plain_series.pk,
        plain_series.newer_revision,
        plain_series.has_dependencies,
    )
    same(series.cover, plain_series.cover)


def test_the_page_sends_its_reads_after_the_patch_in_one_round_trip(client, busy, project):
    """Statements sent in psycopg's pipeline mode go out together and their results come
    back together: one wait for the server instead of one a statement."""
    piped: list[bool] = []

    def note(execute, sql, params, many, context):
        piped.append(connection.connection.pgconn.pipeline_status != 0)
        return execute(sql, params, many, context)

    path = f"/project/{project.linkname}/patch/{busy.url_msgid}/"
    client.get(path)  # the session and anything else a first request sets up
    with connection.execute_wrapper(note):
        assert client.get(path).status_code == 200
    # The patch's own query alone (its id is what the others look up), then four together.
    assert piped[:5] == [False, True, True, True, True]


def test_the_page_statements_are_prepared_on_a_connection_that_ran_them(client, busy, project):
    """PostgreSQL plans them once a connection (DATABASE_PREPARE_THRESHOLD runs), not at
    every page: planning was most of their time in the server."""
    path = f"/project/{project.linkname}/patch/{busy.url_msgid}/"
    for _ in range(3):  # the test client keeps the test's connection from request to request
        assert client.get(path).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    for table in ("patches_patch p", "patches_patchcomment c", "checks_check c", "series_series s"):
        assert any(f"FROM {table}" in statement for statement in prepared), table
