"""The XML-RPC protocol over HTTP: faults for every kind of error, the transport, the docs."""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client

import pytest

from apps.xmlrpc.rpc import SERVICES
from tests.factories import make_patch
from tests.xmlrpc.conftest import live

# Only tests that create data need the (slow) transactional database; the
# others talk to the server alone.

ALL_METHODS = {
    "pw_rpc_version",
    "project_list",
    "project_get",
    "person_list",
    "person_get",
    "patch_list",
    "patch_get",
    "patch_get_by_hash",
    "patch_get_by_project_hash",
    "patch_get_mbox",
    "patch_get_diff",
    "patch_set",
    "state_list",
    "state_get",
    "check_list",
    "check_get",
    "check_create",
    "patch_check_get",
}


def post(server, body: bytes, path: str = "/xmlrpc/", method: str = "POST", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(
            method, path, body=body, headers={"Content-Type": "text/xml", **(headers or {})}
        )
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def fault_in(body: bytes) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        xmlrpc.client.loads(body)
    return info.value


def call_fault(rpc, method: str, *args) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as info:
        getattr(rpc, method)(*args)
    return info.value


def test_every_contract_method_is_served():
    served = {name for service in SERVICES for name in service.public_methods}
    assert served == ALL_METHODS


def test_unknown_method(rpc):
    fault = call_fault(rpc, "patch_delete", 1)
    assert (fault.faultCode, fault.faultString) == (-32601, "Unknown method 'patch_delete'")


@pytest.mark.parametrize(
    ("method", "args", "message"),
    [
        ("patch_get", ("1",), "patch_get: patch_id must be an integer, not str"),
        ("patch_get", (True,), "patch_get: patch_id must be an integer, not bool"),
        ("patch_get", (None,), "patch_get: patch_id may not be nil"),
        ("patch_get", (), "patch_get() is missing argument 'patch_id'"),
        ("patch_get", (1, 2), "patch_get() takes at most 1 argument(s), 2 given"),
        ("project_list", (["demo"],), "project_list: search_str must be a string, not list"),
        ("project_list", ("", "5"), "project_list: max_count must be an integer, not str"),
        ("patch_list", ([1],), "patch_list: filt must be a struct, not list"),
        ("check_list", ("user",), "check_list: filt must be a struct, not str"),
        ("patch_set", (1,), "patch_set() is missing argument 'params'"),
    ],
)
def test_wrong_arguments_are_invalid_params(rpc, method, args, message):
    fault = call_fault(rpc, method, *args)
    assert (fault.faultCode, fault.faultString) == (-32602, message)


@live
def test_filter_values_the_field_cannot_hold(rpc, project):
    make_patch(project)
    fault = call_fault(rpc, "patch_list", {"id": "abc"})
    assert fault.faultCode == 400 and "'id'" in fault.faultString
    fault = call_fault(rpc, "patch_list", {"date__gt": "yesterday"})
    assert fault.faultCode == 400
    fault = call_fault(rpc, "patch_list", {"max_count": "10"})
    assert (fault.faultCode, fault.faultString) == (400, "max_count must be an integer")


def test_malformed_xml_is_a_parse_fault(daphne_server):
    status, content_type, body = post(daphne_server, b"<methodCall><methodName>x</methodName>")
    assert status == 200 and content_type.startswith("text/xml")
    fault = fault_in(body)
    assert fault.faultCode == -32700
    assert fault.faultString.startswith("Malformed XML-RPC request")

    status, _, body = post(daphne_server, b"")
    assert status == 200 and fault_in(body).faultCode == -32700


def test_entities_are_refused(daphne_server):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<methodCall><methodName>project_list</methodName><params><param>"
        b"<value><string>&b;</string></value></param></params></methodCall>"
    )
    fault = fault_in(post(daphne_server, bomb)[2])
    assert fault.faultCode == -32700 and "DTD" in fault.faultString


def test_a_response_is_not_a_call(daphne_server):
    body = xmlrpc.client.dumps(([1, 3, 0],), methodresponse=True).encode()
    fault = fault_in(post(daphne_server, body)[2])
    assert fault.faultCode == -32600


def test_huge_body_is_refused_unread(daphne_server):
    # Declared too large: refused from the Content-Length alone.
    huge = b"<methodCall>" + b" " * (1024 * 1024 + 10) + b"</methodCall>"
    status, _, body = post(daphne_server, huge)
    assert status == 200
    fault = fault_in(body)
    assert fault.faultCode == -32300 and "too large" in fault.faultString


def test_huge_body_without_content_length_is_refused(daphne_server):
    conn = http.client.HTTPConnection("127.0.0.1", daphne_server.port, timeout=30)
    chunks = (b"<methodCall>", b" " * (1024 * 1024 + 10), b"</methodCall>")
    try:
        conn.request(
            "POST",
            "/xmlrpc/",
            body=iter(chunks),
            headers={"Content-Type": "text/xml"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        assert response.status == 200
        fault = fault_in(response.read())
    finally:
        conn.close()
    assert fault.faultCode == -32300


def test_other_http_methods_get_a_fault_not_a_page(daphne_server):
    status, content_type, body = post(daphne_server, b"", method="PUT")
    assert status == 405 and content_type.startswith("text/xml")
    assert fault_in(body).faultCode == -32300


def test_slashless_endpoint(daphne_server):
    body = xmlrpc.client.dumps((), "pw_rpc_version").encode()
    status, _, response = post(daphne_server, body, path="/xmlrpc")
    assert status == 200
    assert xmlrpc.client.loads(response)[0] == ([1, 3, 0],)
    rpc = xmlrpc.client.ServerProxy(f"{daphne_server.url}/xmlrpc")
    assert rpc.pw_rpc_version() == [1, 3, 0]


def raw_request(server, method: str, target: str, body: bytes = b"") -> tuple[bytes, bytes]:
    """Send one request line as given (no client normalises it); (head, payload) back."""
    request = (
        f"{method} {target} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Content-Type: text/xml\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, payload = b"".join(chunks).partition(b"\r\n\r\n")
    return head, payload


def test_absolute_form_request_line(daphne_server):
    """pwclient's transport sends `POST http://host:port/xmlrpc/ HTTP/1.1`."""
    body = xmlrpc.client.dumps((), "pw_rpc_version").encode()
    head, payload = raw_request(daphne_server, "POST", f"{daphne_server.url}/xmlrpc/", body)
    assert head.startswith(b"HTTP/1.1 200")
    assert xmlrpc.client.loads(payload)[0] == ([1, 3, 0],)


def test_absolute_form_keeps_percent_encoded_characters_in_the_path(daphne_server):
    # The probe: the target was decoded before it was split, so `%23` became a '#' and
    # cut the path short: http://x/admin%23/../api/ reached /admin.
    head, _ = raw_request(daphne_server, "GET", "http://x/admin%23/../api/")
    assert head.startswith(b"HTTP/1.1 404"), head
    # The slashless XML-RPC endpoint answers /xmlrpc; /xmlrpc%23/ is another path.
    body = xmlrpc.client.dumps((), "pw_rpc_version").encode()
    head, _ = raw_request(daphne_server, "POST", "http://x/xmlrpc%23/", body)
    assert head.startswith(b"HTTP/1.1 404"), head
    # An encoded character that is not a delimiter still reaches its resource.
    head, payload = raw_request(daphne_server, "POST", "http://x/%78mlrpc/", body)
    assert head.startswith(b"HTTP/1.1 200"), head


@live
def test_pwclient_transport_with_credentials(daphne_server, project, maintainer):
    """The exact transport pwclient uses: absolute URL, credentials in the host."""
    from pwclient.xmlrpc import Transport

    url = f"{daphne_server.url}/xmlrpc/"
    transport = Transport(url)
    transport.set_credentials("maintainer", "password")
    rpc = xmlrpc.client.ServerProxy(url, transport=transport, allow_none=True)
    patch = make_patch(project)
    assert rpc.patch_set(patch.pk, {"archived": True}) is True
    patch.refresh_from_db()
    assert patch.archived is True


@live
def test_strings_xml_cannot_carry_go_as_base64(rpc, project):
    patch = make_patch(project, name="[PATCH] form\x0cfeed and \x1b[1mbold")
    got = rpc.patch_get(patch.pk)
    assert isinstance(got["name"], xmlrpc.client.Binary)
    assert got["name"].data.decode("utf-8") == "[PATCH] form\x0cfeed and \x1b[1mbold"


@live
def test_unicode_round_trip(rpc, project):
    patch = make_patch(project, name="[PATCH] Ünïcödé — 日本語 ✓")
    assert rpc.patch_list({"name__icontains": "日本語"})[0]["name"] == patch.name


def test_docs_page_lists_every_method(daphne_server):
    conn = http.client.HTTPConnection("127.0.0.1", daphne_server.port, timeout=30)
    try:
        conn.request("GET", "/xmlrpc/")
        response = conn.getresponse()
        page = response.read().decode()
    finally:
        conn.close()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/html")
    for name in ALL_METHODS:
        assert f'id="{name}"' in page
    assert "patch_list(filt: struct = {}) → array of patch" in page
    assert "project_list(search_str: string = &quot;&quot;, max_count: int = 0)" in page
    assert (
        "check_create(patch_id: int, context: string, state: string, "
        "target_url: string = &quot;&quot;, description: string = &quot;&quot;) → boolean"
    ) in page
    # Auth methods are marked, descriptions come from the service definitions.
    assert page.count("(auth)") >= 2
    assert "delegate_id (a person id" in page
    assert 'id="struct-patch"' in page and 'id="struct-combined_check"' in page
