"""Projects (read; maintainers update), people and users (authenticated; users update themselves)."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.projects.models import Project
from tests.api.client import ApiClient
from tests.factories import make_person, make_user

pytestmark = pytest.mark.django_db


def test_project_list_and_detail_by_id_or_linkname(api, world, maintainer):
    listed = api.get("projects/").data
    assert [p["link_name"] for p in listed] == ["demo", "other"]
    demo = api.get("projects/demo/").data
    assert demo == api.get(f"projects/{world['project'].id}/").data
    assert demo["list_id"] == "demo.lists.example.com"
    assert demo["list_email"] == "demo@lists.example.com"
    assert [m["username"] for m in demo["maintainers"]] == ["maintainer"]
    assert api.get("projects/nope/").status_code == 404


def test_project_search_and_order(api, world):
    assert [p["link_name"] for p in api.get("projects/", {"q": "oth"}).data] == ["other"]
    assert [p["link_name"] for p in api.get("projects/", {"order": "-name"}).data] == [
        "other",
        "demo",
    ]


def test_maintainer_updates_the_editable_fields_only(world, maintainer, client_for):
    response = client_for(maintainer).patch(
        "projects/demo/",
        {
            "web_url": "https://frob.example.org",
            "list_archive_url_format": "https://lore.example.org/r/{}",
            "show_dependencies": True,
            # not editable through the API: ignored
            "link_name": "hijack",
            "list_id": "hijack.example.org",
            "list_email": "hijack@example.org",
        },
        validate_request=False,
    )
    assert response.status_code == 200
    project = Project.objects.get(pk=world["project"].pk)
    assert project.web_url == "https://frob.example.org"
    assert project.list_archive_url_format == "https://lore.example.org/r/{}"
    assert project.show_dependencies is True
    assert (project.linkname, project.listid, project.listemail) == (
        "demo",
        "demo.lists.example.com",
        "demo@lists.example.com",
    )
    assert response.data["web_url"] == "https://frob.example.org"


def test_project_fields_of_later_versions_are_not_writable_earlier(world, maintainer, client_for):
    client_for(maintainer, version="1.1").patch(
        "projects/demo/", {"commit_url_format": "https://x/{}"}, validate_request=False
    )
    assert Project.objects.get(pk=world["project"].pk).commit_url_format == ""


@pytest.mark.parametrize("who", ["anonymous", "stranger", "other-maintainer"])
def test_only_maintainers_update_projects(who, world, stranger, client_for):
    user = None
    if who == "stranger":
        user = stranger
    elif who == "other-maintainer":
        user = make_user("om")
        world["other_project"].maintainers.add(user)
    response = client_for(user).patch("projects/demo/", {"web_url": "https://evil.example.org"})
    assert response.status_code == 403
    assert Project.objects.get(pk=world["project"].pk).web_url == ""


def test_invalid_project_values_are_400(world, maintainer, client_for):
    response = client_for(maintainer).patch(
        "projects/demo/", {"web_url": "x" * 3000}, validate_request=False
    )
    assert response.status_code == 400 and "web_url" in response.data


def test_people(world, maintainer, submitter, client_for):
    client = client_for(maintainer)
    people = client.get("people/").data
    assert {p["email"] for p in people} == {"submitter@example.com", "other@example.org"}
    sam = client.get(f"people/{submitter.id}/").data
    assert sam["name"] == "Sam Submitter"
    assert sam["user"]["username"] == "submitter"
    assert client.get(f"people/{world['other_person'].id}/").data["user"] is None
    assert [p["email"] for p in client.get("people/", {"q": "olive"}).data] == ["other@example.org"]
    assert client.get("people/999999/").status_code == 404


def test_person_without_a_name_has_name_null(maintainer, client_for):
    """As Patchwork: no display name is null (pages show the address instead)."""
    person = make_person("anon@example.org")
    person.name = ""
    person.save()
    assert client_for(maintainer).get(f"people/{person.id}/").data["name"] is None


def test_git_pw_sends_project_to_users_and_people(world, maintainer, client_for):
    client = client_for(maintainer)
    response = client.get("users/", {"q": "maint", "project": "demo"}, validate_request=False)
    assert [u["username"] for u in response.data] == ["maintainer"]
    response = client.get("people/", {"q": "olive", "project": "demo"}, validate_request=False)
    assert [p["email"] for p in response.data] == ["other@example.org"]


def test_users_list_and_detail(maintainer, stranger, client_for):
    client = client_for(maintainer)
    assert [u["username"] for u in client.get("users/").data] == ["maintainer", "stranger"]
    mine = client.get(f"users/{maintainer.id}/").data
    assert mine["settings"] == {"send_email": False, "items_per_page": 100, "show_ids": False}
    theirs = client.get(f"users/{stranger.id}/").data
    assert "settings" not in theirs
    assert (
        "settings" not in client_for(maintainer, version="1.1").get(f"users/{maintainer.id}/").data
    )


def test_inactive_users_are_not_listed(maintainer, client_for):
    make_user("pending", is_active=False)
    assert [u["username"] for u in client_for(maintainer).get("users/").data] == ["maintainer"]


def test_users_update_themselves(maintainer, client_for):
    response = client_for(maintainer).patch(
        f"users/{maintainer.id}/",
        {"first_name": "May", "settings": {"items_per_page": 50, "show_ids": True}},
    )
    assert response.status_code == 200
    assert response.data["first_name"] == "May"
    assert response.data["settings"]["items_per_page"] == 50
    user = User.objects.get(pk=maintainer.pk)
    assert (user.first_name, user.items_per_page, user.show_ids) == ("May", 50, True)


def test_users_cannot_update_others_but_superusers_can(maintainer, stranger, superuser, client_for):
    response = client_for(stranger).patch(f"users/{maintainer.id}/", {"first_name": "Mallory"})
    assert response.status_code == 403
    assert User.objects.get(pk=maintainer.pk).first_name == "Mae"
    response = client_for(superuser).patch(f"users/{maintainer.id}/", {"last_name": "Fixed"})
    assert response.status_code == 200
    assert User.objects.get(pk=maintainer.pk).last_name == "Fixed"
    # ...but not their settings, which only the user sees and sets.
    response = client_for(superuser).patch(
        f"users/{maintainer.id}/", {"settings": {"show_ids": True}}, validate_request=False
    )
    assert response.status_code == 400
    assert User.objects.get(pk=maintainer.pk).show_ids is False


def test_invalid_user_settings_are_400(maintainer, client_for):
    response = client_for(maintainer).patch(
        f"users/{maintainer.id}/", {"settings": {"items_per_page": "many"}}, validate_request=False
    )
    assert response.status_code == 400
    assert User.objects.get(pk=maintainer.pk).items_per_page == 100


@pytest.mark.parametrize("value", [0, 501])
def test_items_per_page_out_of_bounds_is_400(maintainer, client_for, value):
    response = client_for(maintainer).patch(
        f"users/{maintainer.id}/", {"settings": {"items_per_page": value}}, validate_request=False
    )
    assert response.status_code == 400
    assert User.objects.get(pk=maintainer.pk).items_per_page == 100


def test_anonymous_user_update_is_403(maintainer):
    response = ApiClient().patch(f"users/{maintainer.id}/", {"first_name": "x"})
    assert response.status_code == 403
