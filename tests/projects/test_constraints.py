"""Model constraints that ingestion and the APIs rely on."""

import pytest
from django.db import IntegrityError, transaction

from apps.projects.models import Person, State, Tag
from apps.series.models import SeriesReference
from tests.factories import make_patch, make_person, make_project, make_series


def test_msgid_is_unique_per_project_but_not_across_projects(project):
    make_patch(project, msgid="<same@example.com>")
    make_patch(make_project(), msgid="<same@example.com>")  # another project: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        make_patch(project, msgid="<same@example.com>")


def test_series_reference_is_unique_per_project(project):
    series = make_series(project)
    SeriesReference.objects.create(project=project, series=series, msgid="<a@b>")
    other = make_project()
    SeriesReference.objects.create(project=other, series=make_series(other), msgid="<a@b>")
    with pytest.raises(IntegrityError), transaction.atomic():
        SeriesReference.objects.create(project=project, series=make_series(project), msgid="<a@b>")


def test_person_email_is_unique_case_insensitively(db):
    make_person("Dev@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(email="dev@example.COM")


def test_two_projects_cannot_share_list_and_subject_match(db):
    make_project("one", listid="list.example.com", subject_match="")
    make_project("two", listid="list.example.com", subject_match=r"\[two\]")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_project("three", listid="list.example.com", subject_match="")


def test_default_states_are_installed_with_action_required_on_new_and_under_review(db):
    states = list(State.objects.order_by("ordering").values_list("name", "action_required"))
    assert states == [
        ("New", True),
        ("Under Review", True),
        ("Accepted", False),
        ("Rejected", False),
        ("RFC", False),
        ("Not Applicable", False),
        ("Changes Requested", False),
        ("Awaiting Upstream", False),
        ("Superseded", False),
        ("Deferred", False),
    ]


def test_default_tags_are_installed_and_shown_as_columns(db):
    tags = {t.name: (t.abbrev, t.pattern, t.show_column) for t in Tag.objects.all()}
    assert tags == {
        "Acked-by": ("A", "^Acked-by:", True),
        "Reviewed-by": ("R", "^Reviewed-by:", True),
        "Tested-by": ("T", "^Tested-by:", True),
    }


def test_fixtures_load_as_the_manual_says(db):
    from django.core.management import call_command

    from apps.projects.models import Project

    call_command("loaddata", "default_tags", "default_states", "default_projects", verbosity=0)
    assert Project.objects.filter(linkname="patchwork").exists()
    assert State.objects.count() == 10 and Tag.objects.count() == 3


def test_new_user_gets_default_items_per_page(settings, db):
    from tests.factories import make_user

    settings.DEFAULT_ITEMS_PER_PAGE = 42
    assert make_user().items_per_page == 42


def test_new_tags_and_states_get_ids_after_the_defaults(db):
    # The defaults are inserted with explicit ids; the sequences must have moved past them.
    tag = Tag.objects.create(name="Suggested-by", abbrev="S", pattern="^Suggested-by:")
    state = State.objects.create(name="Queued", slug="queued", ordering=99)
    assert tag.pk > 3 and state.pk > 10
