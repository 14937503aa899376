"""No input gives a 500: NUL characters, Unicode digits and numbers past bigint, everywhere.

Found by an outside probe on PostgreSQL: ``/api/patches/?project=%00``,
``/project/p/patch/%00/``, ``\\u0000`` in a bundle name or ``commit_ref``,
``?project=%C2%B9``, ``/api/projects/¹/``, ``?after=¹``, a page past bigint and
``POST /mail/?list_id=%00`` all failed in the database. Each now gets a 400 or
404 with a message (XML-RPC: a fault naming the value), and changes nothing. The
CI run is on PostgreSQL, where each of these was a 500 before the fix.
"""

from __future__ import annotations

import json
import xmlrpc.client
from urllib.parse import unquote, urlencode

import pytest
from django.test import Client

from apps.accounts.services import api_token_regenerate
from apps.mail.models import IncomingMail
from apps.patches.models import Bundle, Patch
from apps.projects.params import NUL_MESSAGE
from tests.api.schema import VERSIONS
from tests.factories import make_bundle, make_patch, make_project, make_user

HUGE = "99999999999999999999999"  # past bigint
SUPERSCRIPT_ONE = "%C2%B9"  # "¹": str.isdigit() is true, int() fails

# Query parameters of the REST lists: NUL or a Unicode digit in each kind of filter.
API_QUERIES = [
    f"patches/?{name}={value}"
    for name in ("project", "submitter", "delegate", "state", "msgid", "hash", "series", "q")
    for value in ("%00", SUPERSCRIPT_ONE)
] + [
    "patches/?order=%00",
    "patches/?since=%00",
    "patches/?archived=%00",
    "patches/?page=%00",
    f"patches/?page={SUPERSCRIPT_ONE}",
    f"patches/?page={HUGE}",
    "patches/?per_page=%00",
    "covers/?project=%00",
    "covers/?msgid=%00",
    "series/?project=%00",
    "series/?submitter=%00",
    "bundles/?project=%00",
    "bundles/?owner=%00",
    f"bundles/?owner={SUPERSCRIPT_ONE}",
    "events/?project=%00",
    f"events/?series={SUPERSCRIPT_ONE}",
    "patches/{patch}/checks/?user=%00",
    "people/?q=%00",
]
API_PATHS = [
    "projects/%00/",
    f"projects/{SUPERSCRIPT_ONE}/",
    f"projects/{HUGE}/",
    "patches/%00/",
    f"patches/{SUPERSCRIPT_ONE}/",
    f"patches/{HUGE}/",
    "users/%00/",
    f"patches/{{patch}}/checks/{SUPERSCRIPT_ONE}/",
    "bundles/%00/",
]
PAGES = [
    "/project/p/patch/%00/",
    "/project/p/cover/%00/",
    "/project/p/patch/%00/mbox/",
    "/project/p/patch/%00/raw/",
    "/project/%00/",
    "/bundle/u/%00/",
    "/bundle/%00/x/",
    "/project/p/list/?submitter=%00",
    f"/project/p/list/?submitter={SUPERSCRIPT_ONE}",
    "/project/p/list/?delegate=%00",
    f"/project/p/list/?delegate={SUPERSCRIPT_ONE}",
    f"/project/p/list/?series={SUPERSCRIPT_ONE}",
    "/project/p/list/?q=%00",
    f"/project/p/list/?q=series:{SUPERSCRIPT_ONE}",
    "/autocomplete/delegate/?q=%00&project=%00",
    "/project/p/series/?q=%00",
]


@pytest.fixture
def world(db):
    user = make_user("u", is_superuser=True, is_staff=True)
    project = make_project("p", maintainers=[user])
    patch = make_patch(project, msgid="<x@y>", commit_ref="")
    bundle = make_bundle(user, [patch], name="b", public=True)
    return {
        "user": user,
        "patch": patch,
        "bundle": bundle,
        "token": api_token_regenerate(user=user),
    }


def _get(client: Client, url: str, **extra):
    path, _, query = url.partition("?")
    return client.get(unquote(path), QUERY_STRING=query, **extra)


def _is_client_error(response) -> bool:
    return response.status_code in (400, 404)


@pytest.mark.parametrize("version", VERSIONS)
def test_rest_queries_and_paths_never_fail_in_the_database(world, version):
    """Anonymous and with a token: 200 (a filter naming nothing), 400 or 404, never a 5xx."""
    token = f"Token {world['token']}"
    for url in API_QUERIES + API_PATHS:
        url = f"/api/{version}/" + url.format(patch=world["patch"].pk)
        for auth in ({}, {"HTTP_AUTHORIZATION": token}):
            response = _get(Client(), url, **auth)
            assert response.status_code in (200, 400, 403, 404), (url, response.content[:200])
            if "=%00" in url:  # the parameter named, as any malformed one
                assert response.status_code == 400, url
                name = url.split("?")[1].split("=")[0]
                assert response.json() == {name: [NUL_MESSAGE]}
            elif "%00" in url:  # no object has such a name
                assert response.status_code == 404, url
                assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize("version", VERSIONS)
def test_unicode_digits_and_huge_numbers_are_no_id(world, version):
    base = f"/api/{version}/"
    assert _get(Client(), base + f"projects/{SUPERSCRIPT_ONE}/").status_code == 404
    assert _get(Client(), base + f"patches/{HUGE}/").status_code == 404
    assert _get(Client(), base + f"patches/?project={SUPERSCRIPT_ONE}").json() == []
    response = _get(Client(), base + f"patches/?page={HUGE}")
    assert response.status_code == 404 and response.json() == {"detail": "Invalid page."}


def test_events_after_a_unicode_digit_is_a_400(world):
    response = _get(Client(), f"/api/1.4/events/?after={SUPERSCRIPT_ONE}")
    assert response.status_code == 400
    assert "after" in response.json()


def test_pages_never_fail_in_the_database(world):
    client = Client()
    for logged_in in (False, True):
        if logged_in:
            client.force_login(world["user"])
        for url in PAGES:
            response = _get(client, url)
            assert response.status_code in (200, 400, 404), (url, response.status_code)
            if "%00" in url:
                assert response.status_code == 400, url
                assert NUL_MESSAGE in response.content.decode()


def test_a_page_number_past_bigint_is_the_first_page(world):
    response = _get(Client(), f"/project/p/list/?page={HUGE}")
    assert response.status_code == 200
    assert "x@y" in response.content.decode()


@pytest.mark.parametrize(
    "path,body,field",
    [
        ("/api/{v}/bundles/", {"name": "a\u0000b", "patches": ["{patch}"], "public": True}, "name"),
        ("/api/{v}/patches/{patch}/", {"commit_ref": "a\u0000b"}, "commit_ref"),
        ("/api/{v}/patches/{patch}/", {"state": "new\u0000"}, "state"),
        ("/api/{v}/patches/{patch}/", {"delegate": "u\u0000"}, "delegate"),
        ("/api/{v}/patches/{patch}/checks/", {"context": "c\u0000", "state": "success"}, "context"),
        ("/api/{v}/users/{user}/", {"first_name": "\u0000"}, "first_name"),
        ("/api/{v}/bundles/{bundle}/", {"name": "x\u0000"}, "name"),
    ],
)
@pytest.mark.parametrize("version", ["1.2", "1.4"])
@pytest.mark.parametrize("form", [False, True])
def test_nul_in_a_body_is_a_400_for_its_field_and_changes_nothing(
    world, path, body, field, version, form
):
    ids = {"patch": world["patch"].pk, "user": world["user"].pk, "bundle": world["bundle"].pk}
    url = path.format(v=version, **ids)
    body = {k: [str(ids["patch"])] if v == ["{patch}"] else v for k, v in body.items()}
    method = "POST" if url.endswith(("bundles/", "checks/")) else "PATCH"
    before = (list(Patch.objects.values()), list(Bundle.objects.values()))
    if form:
        payload, content_type = urlencode(body, doseq=True), "application/x-www-form-urlencoded"
    else:
        payload, content_type = json.dumps(body), "application/json"
    response = Client().generic(
        method,
        url,
        payload,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Token {world['token']}",
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json() == {field: [NUL_MESSAGE]}
    assert (list(Patch.objects.values()), list(Bundle.objects.values())) == before


@pytest.mark.parametrize("urlencoded", [True, False])
def test_nul_in_a_page_form_is_a_400(world, urlencoded):
    client = Client()
    client.force_login(world["user"])
    form = {"action": "bundle", "patch_id": str(world["patch"].pk), "bundle_name": "a\x00"}
    if urlencoded:
        response = client.post(
            "/project/p/list/bulk/",
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = client.post("/project/p/list/bulk/", form)  # multipart
    assert response.status_code == 400
    assert NUL_MESSAGE in response.content.decode()
    assert list(Bundle.objects.values_list("name", flat=True)) == ["b"]


def _rpc(name: str, *args, big: str | None = None) -> str:
    body = xmlrpc.client.dumps(args, name, allow_none=True)
    if big:  # the marshaller refuses ints past 32 bits; a client may still send them
        body = body.replace("<int>7777777</int>", f"<int>{big}</int>")
    response = Client().post("/xmlrpc/", body.encode(), content_type="text/xml")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "name,args",
    [
        ("patch_list", ({"max_count": 7777777},)),
        ("project_list", ("", 7777777)),
        ("patch_list", ({"id__in": [7777777]},)),
        ("patch_get", (7777777,)),
    ],
)
def test_xmlrpc_numbers_past_bigint_are_a_fault(world, name, args):
    text = _rpc(name, *args, big=HUGE)
    assert "<fault>" in text and "out of range" in text


def test_xmlrpc_nul_is_a_fault(world):
    body = xmlrpc.client.dumps(({"name": "a"},), "patch_list").replace(
        "<string>a</string>", "<string>a&#0;</string>"
    )
    response = Client().post("/xmlrpc/", body.encode(), content_type="text/xml")
    assert response.status_code == 200 and "<fault>" in response.content.decode()


@pytest.fixture
def intake(settings):
    settings.MAIL_INTAKE_TOKEN = "s3cret"


@pytest.mark.parametrize(
    "query,headers",
    [("?list_id=%00", {}), ("", {"HTTP_X_LIST_ID": "a\x00b"})],
)
def test_mail_intake_refuses_a_nul_list_id(db, intake, query, headers):
    response = Client().post(
        "/mail/" + query,
        b"From: a@example.org\nSubject: x\nMessage-ID: <n@x>\n\nbody\n",
        content_type="message/rfc822",
        HTTP_AUTHORIZATION="Bearer s3cret",
        **headers,
    )
    assert response.status_code == 400  # not 503 "retry later", for ever
    assert NUL_MESSAGE in response.content.decode()
    assert not IncomingMail.objects.exists()
