"""Every write, through every interface, by every persona: allowed, refused, or hidden (404).

A refused or hidden write changes nothing. Each persona's attempt runs in a
transaction that is rolled back, so every attempt starts from the same world.
"""

from __future__ import annotations

import base64
import json
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from apps.accounts.models import User
from apps.accounts.services import api_token_regenerate
from apps.checks.models import Check
from apps.patches.models import Bundle, CoverComment, Patch, PatchComment
from apps.projects.models import Project
from apps.webhooks import outbound
from apps.webhooks.models import Delivery, Webhook
from tests.security.conftest import PERSONAS, World

PATCH_EDITORS = {"submitter", "delegate", "maintainer", "superuser"}
MAINTAINERS = {"maintainer", "superuser"}
COMMENT_EDITORS = {"submitter", "maintainer", "superuser"}
LOGGED_IN = set(PERSONAS) - {"anonymous"}
BUNDLE_OWNER = {"submitter"}
WEBHOOK_MANAGERS = {"submitter", "superuser"}


@pytest.fixture(autouse=True)
def no_outbound_requests(monkeypatch):
    """Webhook pings are attempted eagerly: they must never leave the machine."""
    sent = []

    def fake_post(url, **kwargs):
        sent.append(url)
        return outbound.Outcome(error="not sent in tests")

    monkeypatch.setattr(outbound, "post", fake_post)
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])
    return sent


# --- how each interface is called ---------------------------------------------------------


def rest(world: World, persona: str, method: str, path: str, body=None) -> int:
    user = world.users[persona]
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Token {api_token_regenerate(user=user)}"
    response = Client().generic(
        method,
        f"/api/1.4/{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        **headers,
    )
    return response.status_code


def xmlrpc_call(world: World, persona: str, method: str, *params) -> int:
    user = world.users[persona]
    headers = {}
    if user is not None:
        raw = f"{user.username}:password".encode()
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(raw).decode()
    body = xmlrpc.client.dumps(params, method, allow_none=True)
    response = Client().post("/xmlrpc/", body, content_type="text/xml", **headers)
    try:
        xmlrpc.client.loads(response.content)
    except xmlrpc.client.Fault:
        return 403
    return 200


def page(world: World, persona: str, path: str, data: dict, htmx: bool = False) -> int:
    client = Client()
    user = world.users[persona]
    if user is not None:
        client.force_login(user)
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(path, data, **extra)
    if response.status_code == 302 and response.url.startswith(reverse("login")):
        return 401  # sent to the login page
    return response.status_code


# --- the writes -----------------------------------------------------------------------------


@dataclass
class Write:
    name: str
    allowed: set[str]
    do: Callable[[World, str], int]
    changed: Callable[[World], bool]
    ok: tuple[int, ...] = (200,)
    refused: tuple[int, ...] = (403,)
    hidden_to: set[str] | None = None  # these get 404 (default: nobody)


def patch_state(world: World) -> bool:
    return Patch.objects.get(pk=world.patch.pk).state.slug == "accepted"


def patch_archived(world: World) -> bool:
    return Patch.objects.get(pk=world.patch.pk).archived


def comment_addressed(world: World) -> bool:
    return PatchComment.objects.get(pk=world.patch_comment.pk).addressed is True


def cover_comment_addressed(world: World) -> bool:
    return CoverComment.objects.get(pk=world.cover_comment.pk).addressed is True


def bundle_renamed(world: World) -> bool:
    return Bundle.objects.filter(pk=world.bundle.pk).exclude(name="private-one").exists()


def bundle_gone(world: World) -> bool:
    return not Bundle.objects.filter(pk=world.bundle.pk).exists()


def webhook_described(world: World) -> bool:
    return Webhook.objects.get(pk=world.webhook.pk).description == "changed"


def webhook_rotated(world: World) -> bool:
    return Webhook.objects.get(pk=world.webhook.pk).previous_secret != ""


def webhook_pinged(world: World) -> bool:
    return Delivery.objects.filter(webhook=world.webhook, category="ping").exists()


def webhook_gone(world: World) -> bool:
    return not Webhook.objects.filter(pk=world.webhook.pk).exists()


BUNDLE_HIDDEN = set(PERSONAS) - BUNDLE_OWNER
WEBHOOK_HIDDEN = LOGGED_IN - WEBHOOK_MANAGERS
PAGE_REFUSED = (401, 403)

WRITES = [
    # --- REST ---
    Write(
        "REST update patch",
        PATCH_EDITORS,
        lambda w, p: rest(w, p, "PATCH", f"patches/{w.patch.pk}/", {"state": "accepted"}),
        patch_state,
    ),
    Write(
        "REST create check",
        MAINTAINERS,
        lambda w, p: rest(
            w, p, "POST", f"patches/{w.patch.pk}/checks/", {"state": "success", "context": "ci"}
        ),
        lambda w: Check.objects.exists(),
        ok=(201,),
    ),
    Write(
        "REST mark patch comment addressed",
        COMMENT_EDITORS,
        lambda w, p: rest(
            w,
            p,
            "PATCH",
            f"patches/{w.patch.pk}/comments/{w.patch_comment.pk}/",
            {"addressed": True},
        ),
        comment_addressed,
    ),
    Write(
        "REST mark cover comment addressed",
        COMMENT_EDITORS,
        lambda w, p: rest(
            w,
            p,
            "PATCH",
            f"covers/{w.cover.pk}/comments/{w.cover_comment.pk}/",
            {"addressed": True},
        ),
        cover_comment_addressed,
    ),
    Write(
        "REST create bundle",
        LOGGED_IN,
        lambda w, p: rest(w, p, "POST", "bundles/", {"name": "new", "patches": [w.patch.pk]}),
        lambda w: Bundle.objects.filter(name="new").exists(),
        ok=(201,),
    ),
    Write(
        "REST update private bundle",
        BUNDLE_OWNER,
        lambda w, p: rest(w, p, "PATCH", f"bundles/{w.bundle.pk}/", {"name": "renamed"}),
        bundle_renamed,
        hidden_to=BUNDLE_HIDDEN,
    ),
    Write(
        "REST delete private bundle",
        BUNDLE_OWNER,
        lambda w, p: rest(w, p, "DELETE", f"bundles/{w.bundle.pk}/"),
        bundle_gone,
        ok=(204,),
        hidden_to=BUNDLE_HIDDEN,
    ),
    Write(
        "REST update project",
        MAINTAINERS,
        lambda w, p: rest(
            w, p, "PATCH", f"projects/{w.project.pk}/", {"web_url": "https://example.org/new"}
        ),
        lambda w: Project.objects.get(pk=w.project.pk).web_url == "https://example.org/new",
    ),
    Write(
        "REST update user (the submitter)",
        {"submitter", "superuser"},
        lambda w, p: rest(
            w, p, "PATCH", f"users/{w.users['submitter'].pk}/", {"first_name": "Changed"}
        ),
        lambda w: User.objects.get(pk=w.users["submitter"].pk).first_name == "Changed",
    ),
    Write(
        "REST create webhook",
        LOGGED_IN,
        lambda w, p: rest(
            w, p, "POST", "webhooks/", {"target_url": "https://hooks.example.org/new"}
        ),
        lambda w: Webhook.objects.filter(url="https://hooks.example.org/new").exists(),
        ok=(201,),
    ),
    Write(
        "REST update webhook",
        WEBHOOK_MANAGERS,
        lambda w, p: rest(w, p, "PATCH", f"webhooks/{w.webhook.pk}/", {"description": "changed"}),
        webhook_described,
        hidden_to=WEBHOOK_HIDDEN,
    ),
    Write(
        "REST rotate webhook secret",
        WEBHOOK_MANAGERS,
        lambda w, p: rest(w, p, "POST", f"webhooks/{w.webhook.pk}/rotate-secret/", {}),
        webhook_rotated,
        hidden_to=WEBHOOK_HIDDEN,
    ),
    Write(
        "REST ping webhook",
        WEBHOOK_MANAGERS,
        lambda w, p: rest(w, p, "POST", f"webhooks/{w.webhook.pk}/ping/", {}),
        webhook_pinged,
        ok=(200, 201, 202),
        hidden_to=WEBHOOK_HIDDEN,
    ),
    Write(
        "REST delete webhook",
        WEBHOOK_MANAGERS,
        lambda w, p: rest(w, p, "DELETE", f"webhooks/{w.webhook.pk}/"),
        webhook_gone,
        ok=(204,),
        hidden_to=WEBHOOK_HIDDEN,
    ),
    # --- XML-RPC ---
    Write(
        "XML-RPC patch_set",
        PATCH_EDITORS,
        lambda w, p: xmlrpc_call(w, p, "patch_set", w.patch.pk, {"archived": True}),
        patch_archived,
    ),
    Write(
        "XML-RPC check_create",
        MAINTAINERS,
        lambda w, p: xmlrpc_call(w, p, "check_create", w.patch.pk, "ci", "success", "", ""),
        lambda w: Check.objects.exists(),
    ),
    # --- pages ---
    Write(
        "page: patch triage form",
        PATCH_EDITORS,
        lambda w, p: page(
            w,
            p,
            f"/project/sec/patch/{w.patch.url_msgid}/",
            {"state": "accepted", "delegate": "", "commit_ref": ""},
        ),
        patch_state,
        ok=(302,),
        refused=PAGE_REFUSED,
    ),
    Write(
        "page: bulk change on the patch list",
        PATCH_EDITORS,
        lambda w, p: page(
            w, p, "/project/sec/list/bulk/", {"patch_id": w.patch.pk, "state": "accepted"}, True
        ),
        patch_state,
        refused=(400, 403),
    ),
    Write(
        "page: mark patch comment addressed",
        COMMENT_EDITORS,
        lambda w, p: page(w, p, f"/comment/{w.patch_comment.pk}/addressed/", {"addressed": "true"}),
        comment_addressed,
        ok=(302,),
        refused=PAGE_REFUSED,
    ),
    Write(
        "page: mark cover comment addressed",
        COMMENT_EDITORS,
        lambda w, p: page(
            w, p, f"/comment/cover/{w.cover_comment.pk}/addressed/", {"addressed": "true"}
        ),
        cover_comment_addressed,
        ok=(302,),
        refused=PAGE_REFUSED,
    ),
    Write(
        "page: rename private bundle",
        BUNDLE_OWNER,
        lambda w, p: page(
            w, p, "/bundle/submitter/private-one/", {"action": "rename", "name": "renamed"}
        ),
        bundle_renamed,
        ok=(302,),
        hidden_to=BUNDLE_HIDDEN,
    ),
    Write(
        "page: delete private bundle",
        BUNDLE_OWNER,
        lambda w, p: page(w, p, "/bundle/submitter/private-one/", {"action": "delete"}),
        bundle_gone,
        ok=(302,),
        hidden_to=BUNDLE_HIDDEN,
    ),
    Write(
        "page: edit webhook",
        WEBHOOK_MANAGERS,
        lambda w, p: page(
            w,
            p,
            f"/user/webhooks/{w.webhook.pk}/",
            {"url": w.webhook.url, "description": "changed", "active": "on"},
        ),
        webhook_described,
        ok=(302,),
        refused=(401,),
        hidden_to=WEBHOOK_HIDDEN,
    ),
    Write(
        "page: rotate webhook secret",
        WEBHOOK_MANAGERS,
        lambda w, p: page(w, p, f"/user/webhooks/{w.webhook.pk}/rotate/", {"overlap_hours": "1"}),
        webhook_rotated,
        ok=(302,),
        refused=(401,),
        hidden_to=WEBHOOK_HIDDEN,
    ),
    Write(
        "page: ping webhook",
        WEBHOOK_MANAGERS,
        lambda w, p: page(w, p, f"/user/webhooks/{w.webhook.pk}/ping/", {}),
        webhook_pinged,
        ok=(302,),
        refused=(401,),
        hidden_to=WEBHOOK_HIDDEN,
    ),
    Write(
        "page: delete webhook",
        WEBHOOK_MANAGERS,
        lambda w, p: page(w, p, f"/user/webhooks/{w.webhook.pk}/delete/", {}),
        webhook_gone,
        ok=(302,),
        refused=(401,),
        hidden_to=WEBHOOK_HIDDEN,
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("write", WRITES, ids=[w.name for w in WRITES])
def test_permission_matrix(world: World, write: Write):
    wrong = []
    for persona in PERSONAS:
        with transaction.atomic():
            status = write.do(world, persona)
            changed = write.changed(world)
            transaction.set_rollback(True)
        if persona in write.allowed:
            expected, statuses, must_change = "allowed", write.ok, True
        elif write.hidden_to and persona in write.hidden_to:
            expected, statuses, must_change = "hidden", (404,), False
        else:
            expected, statuses, must_change = "refused", write.refused, False
        if status not in statuses or changed != must_change:
            wrong.append(
                f"{persona}: expected {expected} {statuses}, got {status}, changed={changed}"
            )
    assert not wrong, "\n".join(wrong)
