"""CSRF: every form and every unsafe REST call made with a session needs the CSRF token.

Without the token the request is refused (403) and changes nothing; the same
request with the token gets through (so the refusal is the CSRF check, not
something else).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.models import APIToken, User
from apps.patches.models import Bundle, Patch
from apps.projects.models import Person
from apps.webhooks import outbound
from apps.webhooks.models import Webhook
from tests.factories import make_person
from tests.security.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_outbound_requests(monkeypatch):
    monkeypatch.setattr(outbound, "post", lambda url, **kw: outbound.Outcome(error="not sent"))
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])


def session(user, token: bool) -> tuple[Client, dict]:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    secret = "s3cretS3cretS3cretS3cretS3cret12"  # a CSRF cookie as a browser holds it
    client.cookies["csrftoken"] = secret
    return client, ({"HTTP_X_CSRFTOKEN": secret} if token else {})


def forms(w: World) -> list[tuple[str, str, dict, str]]:
    """(who, path, data, what must not change) for every HTML form that writes."""
    linked = make_person("linked@example.org", user=w.users["maintainer"])
    return [
        ("anonymous", "/user/login/", {"username": "maintainer", "password": "password"}, "login"),
        (
            "anonymous",
            "/register/",
            {
                "username": "newbie",
                "email": "n@example.org",
                "password1": "Str0ng-Passw0rd!",
                "password2": "Str0ng-Passw0rd!",
            },
            "newbie",
        ),
        ("anonymous", "/user/password-reset/", {"email": "maintainer@example.com"}, ""),
        ("anonymous", "/mail/optout/", {"email": "x@example.org"}, ""),
        ("anonymous", "/mail/optin/", {"email": "x@example.org"}, ""),
        ("maintainer", "/user/logout/", {}, "logout"),
        ("maintainer", "/user/", {"items_per_page": "7", "show_ids": "on"}, "profile"),
        ("maintainer", "/user/link/", {"email": "another@example.org"}, ""),
        ("maintainer", f"/user/unlink/{linked.pk}/", {}, "unlink"),
        ("maintainer", "/user/generate-token/", {}, "token"),
        (
            "maintainer",
            "/user/password-change/",
            {
                "old_password": "password",
                "new_password1": "N3w-Passw0rd!",
                "new_password2": "N3w-Passw0rd!",
            },
            "password",
        ),
        (
            "maintainer",
            f"/project/sec/patch/{w.patch.url_msgid}/",
            {"state": "accepted", "delegate": "", "commit_ref": ""},
            "patch",
        ),
        (
            "maintainer",
            "/project/sec/list/bulk/",
            {"patch_id": w.patch.pk, "state": "accepted"},
            "patch",
        ),
        ("maintainer", f"/comment/{w.patch_comment.pk}/addressed/", {"addressed": "true"}, ""),
        (
            "maintainer",
            f"/comment/cover/{w.cover_comment.pk}/addressed/",
            {"addressed": "true"},
            "",
        ),
        ("submitter", "/bundle/submitter/private-one/", {"action": "delete"}, "bundle"),
        ("submitter", "/user/webhooks/add/", {"url": "https://hooks.example.org/y"}, "webhook-add"),
        (
            "submitter",
            f"/user/webhooks/{w.webhook.pk}/",
            {"url": w.webhook.url, "description": "x"},
            "",
        ),
        ("submitter", f"/user/webhooks/{w.webhook.pk}/rotate/", {}, ""),
        ("submitter", f"/user/webhooks/{w.webhook.pk}/ping/", {}, ""),
        ("submitter", f"/user/webhooks/{w.webhook.pk}/delete/", {}, "webhook"),
        ("superuser", f"/admin/patches/patch/{w.patch.pk}/delete/", {"post": "yes"}, "patch-gone"),
    ]


def unchanged(w: World, what: str, client: Client) -> bool:
    maintainer = User.objects.get(pk=w.users["maintainer"].pk)
    return {
        "login": "_auth_user_id" not in client.session,
        "newbie": not User.objects.filter(username="newbie").exists(),
        "logout": "_auth_user_id" in client.session,
        "profile": maintainer.items_per_page != 7,
        "unlink": Person.objects.filter(email="linked@example.org", user=maintainer).exists(),
        "token": not APIToken.objects.filter(user=maintainer).exists(),
        "password": maintainer.check_password("password"),
        "patch": Patch.objects.get(pk=w.patch.pk).state.slug == "new",
        "patch-gone": Patch.objects.filter(pk=w.patch.pk).exists(),
        "bundle": Bundle.objects.filter(pk=w.bundle.pk).exists(),
        "webhook-add": not Webhook.objects.filter(url="https://hooks.example.org/y").exists(),
        "webhook": Webhook.objects.filter(pk=w.webhook.pk).exists(),
        "": True,
    }[what]


def test_every_form_refuses_a_post_without_the_csrf_token(world):
    wrong = []
    for who, path, data, what in forms(world):
        client, _ = session(world.users[who], token=False)
        response = client.post(path, data)
        if response.status_code != 403 or not unchanged(world, what, client):
            wrong.append(
                f"{path}: {response.status_code}, unchanged={unchanged(world, what, client)}"
            )
    assert not wrong, "\n".join(wrong)


def test_the_same_forms_pass_the_csrf_check_with_the_token(world):
    for who, path, data, _what in forms(world):
        client, token = session(world.users[who], token=True)
        response = client.post(path, data, **token)
        assert response.status_code != 403, (path, response.content[:300])


REST_CALLS = [
    ("PATCH", "patches/{patch}/", {"state": "accepted"}),
    ("POST", "patches/{patch}/checks/", {"state": "success", "context": "ci"}),
    ("POST", "bundles/", {"name": "new", "patches": ["{patch}"]}),
    ("PATCH", "projects/{project}/", {"web_url": "https://example.org/"}),
    ("PATCH", "users/{me}/", {"first_name": "X"}),
    ("POST", "webhooks/", {"target_url": "https://hooks.example.org/z"}),
]


def _fill(text, w: World):
    ids = {"patch": w.patch.pk, "project": w.project.pk, "me": w.users["maintainer"].pk}
    if isinstance(text, str):
        value = text.format(**ids)
        return int(value) if value.isdigit() else value
    if isinstance(text, dict):
        return {k: _fill(v, w) for k, v in text.items()}
    return [_fill(v, w) for v in text]


@pytest.mark.parametrize("method,path,body", REST_CALLS, ids=[f"{m} {p}" for m, p, _ in REST_CALLS])
def test_unsafe_rest_calls_with_a_session_need_the_csrf_token(world, method, path, body):
    url, body = f"/api/1.4/{_fill(path, world)}", json.dumps(_fill(body, world))
    client, _ = session(world.users["maintainer"], token=False)
    refused = client.generic(method, url, body, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("CSRF Failed")
    assert Patch.objects.get(pk=world.patch.pk).state.slug == "new"
    client, token = session(world.users["maintainer"], token=True)
    accepted = client.generic(method, url, body, content_type="application/json", **token)
    assert accepted.status_code in (200, 201), accepted.content[:300]


# Views that skip Django's CSRF check, and why that is safe.
CSRF_EXEMPT = {
    "config.api_urls": "the REST API checks CSRF itself for session users (apps.api.auth)",
    "apps.xmlrpc.endpoint": "XML-RPC authenticates by HTTP Basic only, never by the session",
    "apps.mail.views": "mail intake authenticates by its token only",
}


def _views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_no_view_skips_the_csrf_check_unless_listed():
    unexpected = []
    for route, view in _views():
        if not getattr(view, "csrf_exempt", False):
            continue
        module = view.__module__
        if route.startswith("admin/") and module.startswith("django.contrib"):
            continue  # admin's own exempt views (e.g. the JavaScript catalog) only read
        if module not in CSRF_EXEMPT:
            unexpected.append(f"{route} ({module}.{view.__name__})")
    assert not unexpected, unexpected
