"""List methods cost a fixed number of queries, however many rows they return."""

from __future__ import annotations

import xmlrpc.client

import pytest

from tests.factories import make_check, make_patch, make_person, make_user

pytestmark = pytest.mark.django_db


def call(client, method, *args):
    body = xmlrpc.client.dumps(args, method, allow_none=True)
    response = client.post("/xmlrpc/", body, content_type="text/xml")
    return xmlrpc.client.loads(response.content)[0][0]


def test_patch_list(client, project, maintainer, django_assert_max_num_queries):
    for n in range(20):
        make_patch(project, delegate=maintainer if n % 2 else None)
    with django_assert_max_num_queries(2):
        patches = call(client, "patch_list", {"project_id": project.pk})
    assert len(patches) == 20


def test_patch_list_by_delegate_person(client, project, maintainer, django_assert_max_num_queries):
    person = make_person("mae@example.com", user=maintainer)
    for _ in range(10):
        make_patch(project, delegate=maintainer)
    with django_assert_max_num_queries(2):
        patches = call(client, "patch_list", {"delegate_id": person.pk})
    assert len(patches) == 10


def test_check_list(client, project, maintainer, django_assert_max_num_queries):
    robot = make_user("robot")
    for patch in [make_patch(project) for _ in range(5)]:
        make_check(patch, maintainer)
        make_check(patch, robot, context="lint")
    with django_assert_max_num_queries(2):
        checks = call(client, "check_list", {})
    assert len(checks) == 10


def test_patch_check_get(client, project, maintainer, django_assert_max_num_queries):
    patch = make_patch(project)
    for n in range(10):
        make_check(patch, maintainer, context=f"ctx{n}")
    with django_assert_max_num_queries(3):
        combined = call(client, "patch_check_get", patch.pk)
    assert combined["total"] == 10


def test_person_list(client, django_assert_max_num_queries):
    for n in range(10):
        make_person(f"p{n}@example.com", user=make_user(f"u{n}") if n % 2 else None)
    with django_assert_max_num_queries(2):
        people = call(client, "person_list", "example.com", 0)
    assert len(people) == 10
