"""ENABLE_XMLRPC switches the endpoint (and its documentation) on and off."""

from __future__ import annotations

import xmlrpc.client

import pytest

CALL = xmlrpc.client.dumps((), "pw_rpc_version")

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/xmlrpc/", "/xmlrpc"])
def test_disabled_endpoint_is_not_found(client, settings, path):
    settings.ENABLE_XMLRPC = False
    assert client.post(path, CALL, content_type="text/xml").status_code == 404
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/xmlrpc/", "/xmlrpc"])
def test_enabled_endpoint_answers(client, settings, path):
    settings.ENABLE_XMLRPC = True
    response = client.post(path, CALL, content_type="text/xml")
    assert response.status_code == 200
    assert xmlrpc.client.loads(response.content)[0] == ([1, 3, 0],)
    assert client.get(path).status_code == 200


def test_request_size_limit_is_a_setting(client, settings):
    settings.XMLRPC_MAX_REQUEST_SIZE = len(CALL) - 1
    response = client.post("/xmlrpc/", CALL, content_type="text/xml")
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(response.content)
    assert info.value.faultCode == -32300
    settings.XMLRPC_MAX_REQUEST_SIZE = len(CALL)
    response = client.post("/xmlrpc/", CALL, content_type="text/xml")
    assert xmlrpc.client.loads(response.content)[0] == ([1, 3, 0],)
