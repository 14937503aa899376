"""The list page builds its rows in Python (fast_rows.row_html) from light rows
(fast_rows.patch_rows_light); live updates and bulk actions render the partial
patches/_row.html from model instances. Both must give the same bytes."""

from __future__ import annotations

import itertools

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from apps.patches.models import Patch, PatchTag
from apps.projects.models import Person, Tag
from apps.web.patches.fast_rows import patch_rows_light, row_html
from apps.web.patches.rows import (
    RowOptions,
    patch_rows,
    patch_rows_decorate,
    patch_rows_queryset,
)
from tests.factories import default_state, make_check, make_patch, make_person, make_series

pytestmark = pytest.mark.django_db


def test_row_html_is_the_row_partial(project, maintainer):
    series = make_series(project, name='A "quoted" <series> & more than forty characters long')
    tricky = make_patch(
        project,
        name="[PATCH 2/3] <b>bold</b> & 'quotes'",
        msgid="<a b/c?d%e@example.org>",
        submitter=make_person("x@example.org", name="Ada <Lovelace>"),
        delegate=maintainer,
        series=series,
        number=2,
        archived=True,
        state=default_state("under-review"),
    )
    unnamed = Person.objects.create(email="nobody@example.org", name="")
    plain = make_patch(project, submitter=unnamed)
    # No subject, an untitled series, a state that asks for action.
    nameless = make_patch(
        project, name="", series=make_series(project, name=""), state=default_state("new")
    )
    make_check(tricky, maintainer, state="fail")
    tags = list(Tag.objects.order_by("abbrev"))
    PatchTag.objects.create(patch=tricky, tag=tags[0], count=2)
    ids = [tricky.pk, plain.pk, nameless.pk]
    request = RequestFactory().get("/")
    for selectable, show_ids, tag_columns, tz in itertools.product(
        (False, True), (False, True), (tags, []), ("UTC", "Asia/Kolkata")
    ):
        options = RowOptions(tag_columns=tag_columns, show_ids=show_ids, selectable=selectable)
        timezone.activate(tz)
        fast = patch_rows_decorate(patch_rows_light(ids), options)
        models = patch_rows_decorate(
            list(patch_rows_queryset(Patch.objects.filter(pk__in=ids)).order_by("pk")), options
        )
        assert [p.pk for p in fast] == [p.pk for p in models] == ids
        assert [p.pk for p in patch_rows(list(reversed(ids)))] == list(reversed(ids))
        assert [p.pk for p in patch_rows_light(list(reversed(ids)))] == list(reversed(ids))
        for row, model in zip(fast, models, strict=True):
            for selected, changed, oob in itertools.product((False, True), repeat=3):
                flags = {"selected": selected, "changed": changed, "oob": oob}
                expected = render_to_string(
                    "patches/_row.html", {"patch": model, "opts": options, **flags}, request
                )
                assert row_html(row, options, **flags) == expected, (options, flags, tz)
    timezone.deactivate()
