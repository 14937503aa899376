"""A project's stored URLs are http(s) only: refused on every write path, never a script link.

Found by an outside probe: a maintainer stored ``javascript:`` in ``web_url``
and the project page made it a link anyone (an admin included) could click.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from apps.projects.models import Project
from tests.api.client import ApiClient
from tests.factories import make_check, make_patch, make_project, make_user

URL_FIELDS = ("web_url", "webscm_url", "list_archive_url")
FORMAT_FIELDS = ("list_archive_url_format", "commit_url_format")
HOSTILE = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\tjavascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example.org/",
    "https:alert(1)",
    "http://exa mple.org/",
]


@pytest.fixture
def owner(db):
    maintainer = make_user("maintainer")
    project = make_project(
        "urls",
        maintainers=[maintainer],
        web_url="https://example.org/",
        webscm_url="https://git.example.org/",
        list_archive_url="https://lists.example.org/",
        list_archive_url_format="https://lore.example.org/r/{}",
        commit_url_format="https://git.example.org/commit/{}",
    )
    return maintainer, project


def _stored(project: Project) -> dict[str, str]:
    project.refresh_from_db()
    return {name: getattr(project, name) for name in URL_FIELDS + FORMAT_FIELDS}


@pytest.mark.parametrize("version", ["1.0", "1.4"])
@pytest.mark.parametrize("value", HOSTILE)
def test_rest_refuses_urls_that_are_not_http(owner, value, version):
    maintainer, project = owner
    before = _stored(project)
    client = ApiClient(version).token_auth(maintainer)
    fields = URL_FIELDS + FORMAT_FIELDS if version == "1.4" else ("web_url", "webscm_url")
    for field in fields:
        sent = value + "{}" if field in FORMAT_FIELDS else value
        response = client.patch(f"projects/{project.pk}/", {field: sent}, validate_request=False)
        assert response.status_code == 400, (field, response.data)
        assert list(response.data) == [field]
        assert "http://" in response.data[field][0]
    assert _stored(project) == before


def test_rest_accepts_http_and_https_and_blank(owner):
    maintainer, project = owner
    client = ApiClient("1.4").token_auth(maintainer)
    response = client.patch(
        f"projects/{project.pk}/",
        {
            "web_url": "HTTPS://Example.org/a?b#c",
            "webscm_url": "http://git.example.org",
            "list_archive_url": "",
            "commit_url_format": "https://git.example.org/c/{}",
        },
    )
    assert response.status_code == 200, response.data
    assert _stored(project)["web_url"] == "HTTPS://Example.org/a?b#c"
    assert _stored(project)["list_archive_url"] == ""


@pytest.mark.parametrize("value", HOSTILE[:3] + ["data:text/html,x"])
def test_admin_refuses_urls_that_are_not_http(owner, value):
    _, project = owner
    admin = make_user("admin", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    before = _stored(project)
    url = f"/admin/projects/project/{project.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["maintainers"] = [m.pk for m in project.maintainers.all()]
    data.update({"delegation_rules-TOTAL_FORMS": "0", "delegation_rules-INITIAL_FORMS": "0"})
    for flag in ("send_notifications", "use_tags", "show_dependencies"):
        if not data.get(flag):
            data.pop(flag, None)
    data["web_url"] = value
    data["commit_url_format"] = value + "{}"
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"web_url", "commit_url_format"}, errors
    assert _stored(project) == before


def test_a_bad_url_already_stored_is_never_a_link(owner):
    """Written before the check (or straight into the database): shown as text, not an href."""
    maintainer, project = owner
    Project.objects.filter(pk=project.pk).update(
        web_url="javascript:alert(1)",
        webscm_url="JaVaScRiPt:alert(2)",
        list_archive_url=" data:text/html,x",
        list_archive_url_format="javascript:alert('{}')",
        commit_url_format="{}",
    )
    patch = make_patch(project, commit_ref="javascript:alert(3)")
    make_check(patch, maintainer, target_url="javascript:alert(4)")
    client = Client()
    pages = [
        f"/project/{project.linkname}/",
        f"/project/{project.linkname}/patch/{patch.msgid.strip('<>')}/",
    ]
    for page in pages:
        html = client.get(page).content.decode()
        for scheme in ("javascript:", "data:", "JaVaScRiPt:"):
            assert f'href="{scheme}' not in html
            assert f'href=" {scheme}' not in html
        assert not re.search(r'href="[^"]*(alert|data:)', html), page
    detail = client.get(pages[0]).content.decode()
    assert "<code>javascript:alert(1)</code>" in detail  # still shown, as text


def test_http_urls_are_still_links(owner):
    _, project = owner
    patch = make_patch(project, commit_ref="abc123")
    html = Client().get(f"/project/{project.linkname}/").content.decode()
    assert '<a href="https://example.org/">' in html
    page = Client().get(f"/project/{project.linkname}/patch/{patch.msgid.strip('<>')}/")
    text = page.content.decode()
    assert 'href="https://git.example.org/commit/abc123"' in text
    assert f'href="https://lore.example.org/r/{patch.msgid.strip("<>")}"' in text
