"""The home page (project list) and a project's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import default_state, make_patch, make_project

pytestmark = pytest.mark.django_db


def test_home_lists_projects_with_links(client, project, django_assert_max_num_queries):
    make_project("other", name="Other <b>list</b>")
    with django_assert_max_num_queries(4):
        response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("patch-list", args=["demo"]) in body
    assert reverse("project-detail", args=["other"]) in body
    # Names are escaped, never markup.
    assert "Other &lt;b&gt;list&lt;/b&gt;" in body


def test_home_without_projects_says_so(client, db):
    response = client.get("/")
    assert "No projects yet" in response.content.decode()


def test_project_page_shows_facts_counts_and_tools(client, project, maintainer):
    project.list_archive_url = "https://lore.example.org/demo/"
    project.webscm_url = "https://git.example.org/demo.git"
    project.save()
    make_patch(project)
    make_patch(project)
    make_patch(project, state=default_state("accepted"))
    make_patch(project, state=default_state("accepted"), archived=True)
    response = client.get(reverse("project-detail", args=["demo"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert project.listemail in body
    assert "https://lore.example.org/demo/" in body
    assert "https://git.example.org/demo.git" in body
    assert maintainer.display_name in body
    assert "/project/demo/pwclientrc/" in body
    assert "git config pw.project demo" in body
    assert "http://testserver/api/" in body
    # 2 new + 1 accepted open, 1 accepted archived.
    assert "Patches needing action (2)" in body
    assert response.context["total_active"] == 3
    assert response.context["total_archived"] == 1


def test_project_page_counts_are_cached(client, project, django_assert_max_num_queries):
    make_patch(project)
    client.get(reverse("project-detail", args=["demo"]))
    make_patch(project)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("project-detail", args=["demo"]))
    # The cached count is at most a minute old: still 1.
    assert response.context["total_active"] == 1


def test_unknown_project_is_404(client, db):
    assert client.get("/project/nope/").status_code == 404
