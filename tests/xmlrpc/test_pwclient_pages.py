"""/pwclient/ and each project's ready-made .pwclientrc."""

from __future__ import annotations

import configparser

import pytest

from tests.factories import make_project

pytestmark = pytest.mark.django_db


def rc(client, linkname="demo") -> configparser.ConfigParser:
    response = client.get(f"/project/{linkname}/pwclientrc/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    config = configparser.ConfigParser()
    config.read_string(response.content.decode())
    return config


def test_pwclientrc_uses_rest_when_it_is_on(client, settings, project):
    settings.ENABLE_REST_API = True
    config = rc(client)
    assert config.get("options", "default") == "demo"
    assert config.get("demo", "backend") == "rest"
    assert config.get("demo", "url") == "http://testserver/api/"
    assert not config.has_option("demo", "username")
    # The XML-RPC alternative is there, commented out.
    text = client.get("/project/demo/pwclientrc/").content.decode()
    assert "# url = http://testserver/xmlrpc/" in text


def test_pwclientrc_falls_back_to_xmlrpc(client, settings, project):
    settings.ENABLE_REST_API = False
    settings.ENABLE_XMLRPC = True
    config = rc(client)
    assert config.get("demo", "backend") == "xmlrpc"
    assert config.get("demo", "url") == "http://testserver/xmlrpc/"
    assert "token" not in client.get("/project/demo/pwclientrc/").content.decode()


def test_pwclientrc_fills_in_the_logged_in_username(client, project, maintainer):
    client.force_login(maintainer)
    assert rc(client).get("demo", "username") == "maintainer"


def test_pwclientrc_https_links(client, settings, project):
    settings.FORCE_HTTPS_LINKS = True
    assert rc(client).get("demo", "url") == "https://testserver/api/"


def test_pwclientrc_unknown_project_or_no_api(client, settings, project):
    assert client.get("/project/nope/pwclientrc/").status_code == 404
    settings.ENABLE_REST_API = False
    settings.ENABLE_XMLRPC = False
    assert client.get("/project/demo/pwclientrc/").status_code == 404


def test_pwclient_page_links_every_project(client, project):
    other = make_project("kernel", name="Kernel <&> Co")
    response = client.get("/pwclient/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "pip install --user pwclient" in page
    assert 'href="/project/demo/pwclientrc/"' in page
    assert f'href="/project/{other.linkname}/pwclientrc/"' in page
    assert "Kernel &lt;&amp;&gt; Co" in page


def test_pwclient_page_without_apis(client, settings, project):
    settings.ENABLE_REST_API = False
    settings.ENABLE_XMLRPC = False
    page = client.get("/pwclient/").content.decode()
    assert "Neither the REST nor the XML-RPC API is enabled" in page
    assert "pwclientrc/" not in page
