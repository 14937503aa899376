"""Submitters: one Person per address (any case), latest name, linked to its user."""

from __future__ import annotations

import pytest

from apps.projects.models import Person
from tests.factories import make_user
from tests.mails import deliver, git_mails, read

pytestmark = pytest.mark.django_db


def test_person_created_once_case_insensitively_with_the_latest_name(frob):
    v1 = git_mails("v1")
    deliver(v1[1])
    other = (
        v1[2]
        .read_bytes()
        .replace(b"From: Ada Lovelace <ada@example.org>", b"From: Ada King <ADA@Example.ORG>")
    )
    deliver(other)
    person = Person.objects.get()
    assert (person.email, person.name) == ("ada@example.org", "Ada King")


def test_new_person_is_linked_to_the_user_with_that_address(frob):
    user = make_user("ada", email="Ada@Example.org")
    deliver(git_mails("v1")[1])
    assert Person.objects.get().user == user


def test_archive_style_and_list_rewritten_senders(frob):
    deliver(read("people/at-style.eml"))
    deliver(read("people/dmarc.eml"))
    assert sorted(Person.objects.values_list("email", "name")) == [
        ("ada.lovelace@example.org", "Ada Lovelace"),
        ("ada@example.org", "Ada Lovelace"),
    ]
