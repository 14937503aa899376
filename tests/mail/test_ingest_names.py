"""Names as Patchwork keeps them: no display name is null, no subject is ""."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import Client

from apps.patches import links
from apps.patches.models import Patch
from apps.projects.models import Person
from apps.series.models import Series
from tests.api.client import ApiClient
from tests.factories import make_person
from tests.mails import deliver, read

pytestmark = pytest.mark.django_db


def test_a_bare_address_gives_a_person_without_a_name(frob, maintainer):
    deliver("compat/bare-address.eml")
    person = Person.objects.get(email="dave@example.org")
    assert person.name == ""
    patch = Patch.objects.get()
    for version in ("1.0", "1.3", "1.4"):
        api = ApiClient(version).token_auth(maintainer)
        assert api.get(f"patches/{patch.pk}/").data["submitter"]["name"] is None
        assert api.get(f"people/{person.pk}/").data["name"] is None
    # Pages still say who it is.
    page = Client().get(links.patch_path("frob", patch.msgid)).content.decode()
    assert "dave@example.org" in page


def test_a_later_mail_with_a_name_names_them(frob, maintainer):
    deliver("compat/bare-address.eml")
    raw = (
        read("compat/bare-address.eml")
        .replace(b"From: dave@example.org", b"From: Dave Diff <dave@example.org>")
        .replace(b"<bare-address.1@", b"<bare-address.2@")
    )
    deliver(raw)
    assert Person.objects.get(email="dave@example.org").name == "Dave Diff"


def test_names_equal_to_the_address_are_cleared_by_the_migration(db):
    copied = make_person("erin@example.org", name="Erin@Example.org")
    named = make_person("fay@example.org", name="Fay")
    migration = importlib.import_module("apps.projects.migrations.0005_person_name_not_address")
    migration.clear(django_apps, None)
    copied.refresh_from_db()
    named.refresh_from_db()
    assert (copied.name, named.name) == ("", "Fay")


@pytest.mark.parametrize("mail", ["compat/empty-subject.eml", "malformed/no-subject.eml"])
def test_no_subject_keeps_an_empty_name(frob, maintainer, mail):
    deliver(mail)
    patch = Patch.objects.get()
    assert patch.name == "" and Series.objects.get().name == ""
    api = ApiClient("1.3").token_auth(maintainer)
    assert api.get(f"patches/{patch.pk}/").data["name"] == ""
    assert [p["name"] for p in api.get("patches/").data] == [""]
    # The pages show a placeholder instead of nothing.
    page = Client().get(links.patch_path("frob", patch.msgid)).content.decode()
    assert "<h1>(no subject)</h1>" in page
    listing = Client().get("/project/frob/list/").content.decode()
    assert ">(no subject)</a>" in listing
