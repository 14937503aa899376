"""The list page builds its rows in Python (rows.row_html); live updates and bulk actions
render the partial patches/_row.html. Both must give the same bytes."""

from __future__ import annotations

import itertools

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from apps.patches.models import Patch, PatchTag
from apps.projects.models import Person, Tag
from apps.web.patches.rows import (
    RowOptions,
    patch_rows,
    patch_rows_decorate,
    patch_rows_queryset,
    row_html,
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
    make_check(tricky, maintainer, state="fail")
    tags = list(Tag.objects.order_by("abbrev"))
    PatchTag.objects.create(patch=tricky, tag=tags[0], count=2)
    ids = [tricky.pk, plain.pk]
    request = RequestFactory().get("/")
    for selectable, show_ids in itertools.product((False, True), repeat=2):
        options = RowOptions(tag_columns=tags, show_ids=show_ids, selectable=selectable)
        light = patch_rows_decorate(patch_rows(ids), options)
        models = patch_rows_decorate(
            list(patch_rows_queryset(Patch.objects.filter(pk__in=ids)).order_by("pk")), options
        )
        assert [p.pk for p in light] == [p.pk for p in models] == ids
        for row, model in zip(light, models, strict=True):
            for selected, changed, oob in itertools.product((False, True), repeat=3):
                flags = {"selected": selected, "changed": changed, "oob": oob}
                expected = render_to_string(
                    "patches/_row.html", {"patch": model, "opts": options, **flags}, request
                )
                assert row_html(row, options, **flags) == expected, (options, flags)
