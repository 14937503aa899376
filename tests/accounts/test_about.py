"""The about page: version, which APIs are enabled, API versions."""

from __future__ import annotations

from importlib import metadata

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_about_with_both_apis(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get(reverse("about"))
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["version"] == metadata.version("patchwork-ng")
    assert f"<dd>{response.context['version']}</dd>" in html
    for version in ("1.0", "1.1", "1.2", "1.3", "1.4"):
        assert version in html
    assert 'href="/api/"' in html and 'href="/xmlrpc/"' in html
    assert 'href="/api/1.4/"' in html


def test_about_with_apis_disabled(client, settings):
    settings.ENABLE_REST_API = False
    settings.ENABLE_XMLRPC = False
    html = client.get(reverse("about")).content.decode()
    assert 'href="/api/"' not in html and 'href="/xmlrpc/"' not in html
    assert html.count("Disabled") == 2


def test_about_with_only_xmlrpc(client, settings):
    settings.ENABLE_REST_API = False
    html = client.get(reverse("about")).content.decode()
    assert 'href="/xmlrpc/"' in html and 'href="/api/1.4/"' not in html
