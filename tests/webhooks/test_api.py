"""/api/webhooks/: the REST API for webhooks, validated against docs/openapi-webhooks.yaml."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from apps.accounts.services import api_token_regenerate
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.models import Delivery, Webhook
from apps.webhooks.services import webhook_create
from tests.factories import make_project
from tests.webhooks.schema import validate_response

pytestmark = pytest.mark.django_db


class Api:
    """Token-authenticated JSON requests; each response checked against the document."""

    def __init__(self, user=None, prefix: str = "/api/1.4/") -> None:
        self.client = Client()
        self.prefix = prefix
        self.auth = {}
        if user is not None:
            self.auth["HTTP_AUTHORIZATION"] = f"Token {api_token_regenerate(user=user)}"

    def call(self, method: str, path: str, body=None, *, query=None):
        url = self.prefix + path
        kwargs = dict(self.auth)
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        if query:
            kwargs["QUERY_STRING"] = "&".join(f"{k}={v}" for k, v in query.items())
        response = getattr(self.client, method)(url, **kwargs)
        data = json.loads(response.content) if response.content else None
        documented = "/api/1.4/" + re.sub(r"/\d+/", "/{id}/", path, count=1)
        documented = re.sub(r"deliveries/\d+/", "deliveries/{delivery_id}/", documented)
        if response.status_code != 403:  # not-logged-in: the shared API error shape
            validate_response(documented, method, response.status_code, data)
        return response.status_code, data

    def get(self, path, **kw):
        return self.call("get", path, **kw)

    def post(self, path, body=None):
        return self.call("post", path, body if body is not None else {})

    def patch(self, path, body):
        return self.call("patch", path, body)

    def put(self, path, body):
        return self.call("put", path, body)

    def delete(self, path):
        return self.call("delete", path)


@pytest.fixture
def api(submitter_user):
    return Api(submitter_user)


@pytest.fixture
def webhook(submitter_user, receiver) -> Webhook:
    webhook, _ = webhook_create(owner=submitter_user, url=receiver.url)
    return webhook


def test_create_returns_the_secret_once(api, receiver, project, submitter_user):
    status, data = api.post(
        "webhooks/",
        {
            "target_url": receiver.url,
            "description": "CI",
            "projects": [project.linkname],
            "categories": ["patch-completed", "series-completed"],
        },
    )
    assert status == 201
    webhook = Webhook.objects.get()
    assert data["secret"] == webhook.secret and data["secret"].startswith("whsec_")
    assert data["target_url"] == receiver.url and data["active"] is True
    assert [p["link_name"] for p in data["projects"]] == [project.linkname]
    assert data["categories"] == ["patch-completed", "series-completed"]
    assert data["url"] == f"http://testserver/api/1.4/webhooks/{webhook.pk}/"
    assert data["owner"]["username"] == submitter_user.username
    assert webhook.deliveries.filter(category="ping").count() == 1
    _, shown = api.get(f"webhooks/{webhook.pk}/")
    _, listed = api.get("webhooks/")
    assert "secret" not in shown and webhook.secret not in json.dumps([shown, listed])


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "target_url", "required"),
        ({"target_url": "gopher://x.example/"}, "target_url", "Only http:// and https://"),
        ({"target_url": "http://127.0.0.1/", "categories": ["nope"]}, "categories", "nope"),
        ({"target_url": "http://127.0.0.1/", "projects": ["missing"]}, "projects", "missing"),
        ({"target_url": "http://127.0.0.1/", "active": "maybe"}, "active", "boolean"),
        ({"target_url": "http://127.0.0.1/", "description": "x" * 300}, "description", "255"),
    ],
)
def test_bad_input_is_400_per_field_and_creates_nothing(api, body, field, message):
    status, data = api.post("webhooks/", body)
    assert status == 400 and message in " ".join(data[field])
    assert not Webhook.objects.exists() and not Delivery.objects.exists()


def test_private_targets_are_refused_in_production(api, production_targets):
    for url in (
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/",
    ):
        status, data = api.post("webhooks/", {"target_url": url})
        assert status == 400 and "not allowed" in data["target_url"][0]
    assert not Webhook.objects.exists()


def test_update_with_patch_and_put(api, webhook, project):
    status, data = api.patch(f"webhooks/{webhook.pk}/", {"projects": [project.pk], "active": False})
    assert status == 200 and data["active"] is False and data["projects"][0]["id"] == project.pk
    status, data = api.put(f"webhooks/{webhook.pk}/", {"description": "no url"})
    assert status == 400 and "target_url" in data
    status, data = api.put(
        f"webhooks/{webhook.pk}/", {"target_url": webhook.url + "2", "active": True}
    )
    assert status == 200 and data["target_url"] == webhook.url + "2" and data["active"]
    status, data = api.patch(f"webhooks/{webhook.pk}/", {"unknown": 1})
    assert status == 400


def test_rotate_secret(api, webhook):
    old = webhook.secret
    status, data = api.post(f"webhooks/{webhook.pk}/rotate-secret/", {"overlap_hours": 2})
    webhook.refresh_from_db()
    assert status == 200 and data["secret"] == webhook.secret != old
    assert webhook.previous_secret == old and data["previous_secret_expires"]
    status, data = api.post(f"webhooks/{webhook.pk}/rotate-secret/", {"overlap_hours": 1000})
    assert status == 400 and "overlap_hours" in data
    status, data = api.post(f"webhooks/{webhook.pk}/rotate-secret/", {"overlap_hours": "x"})
    assert status == 400


def test_ping_deliveries_log_and_redeliver(
    api, webhook, receiver, django_capture_on_commit_callbacks
):
    status, ping = api.post(f"webhooks/{webhook.pk}/ping/")
    assert status == 202 and ping["category"] == "ping" and ping["status"] == "pending"
    first = webhook.deliveries.order_by("id").first()
    delivery_attempt(delivery_id=first.pk)
    receiver.respond(503, headers={"Retry-After": "60"})
    delivery_attempt(delivery_id=ping["id"])

    status, everything = api.get(f"webhooks/{webhook.pk}/deliveries/")
    assert status == 200 and [d["id"] for d in everything] == [ping["id"], first.pk]
    status, failed = api.get(f"webhooks/{webhook.pk}/deliveries/", query={"failed": "true"})
    assert [d["id"] for d in failed] == [ping["id"]] and failed[0]["last_status"] == 503
    assert api.get(f"webhooks/{webhook.pk}/deliveries/", query={"failed": "x"})[0] == 400

    status, detail = api.get(f"webhooks/{webhook.pk}/deliveries/{ping['id']}/")
    assert status == 200 and detail["webhook_id"] == ping["webhook_id"]
    (attempt,) = detail["attempt_log"]
    assert attempt["response_status"] == 503
    assert attempt["request_headers"]["webhook-id"] == ping["webhook_id"]
    assert json.loads(attempt["request_body"])["category"] == "ping"

    with django_capture_on_commit_callbacks(execute=True):
        status, again = api.post(f"webhooks/{webhook.pk}/deliveries/{first.pk}/redeliver/")
    assert status == 202 and again["webhook_id"] == first.message_id
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids.count(first.message_id) == 2


def test_delete(api, webhook):
    assert api.delete(f"webhooks/{webhook.pk}/")[0] == 204
    assert not Webhook.objects.exists()
    assert api.get(f"webhooks/{webhook.pk}/")[0] == 404


def test_another_user_gets_404_and_changes_nothing(webhook, stranger):
    other = Api(stranger)
    delivery = webhook.deliveries.get()
    pk = webhook.pk
    assert other.get("webhooks/") == (200, [])
    assert other.get(f"webhooks/{pk}/")[0] == 404
    assert other.patch(f"webhooks/{pk}/", {"target_url": "http://127.0.0.1:1/"})[0] == 404
    assert other.put(f"webhooks/{pk}/", {"target_url": "http://127.0.0.1:1/"})[0] == 404
    assert other.post(f"webhooks/{pk}/ping/")[0] == 404
    assert other.post(f"webhooks/{pk}/rotate-secret/")[0] == 404
    assert other.get(f"webhooks/{pk}/deliveries/")[0] == 404
    assert other.get(f"webhooks/{pk}/deliveries/{delivery.pk}/")[0] == 404
    assert other.post(f"webhooks/{pk}/deliveries/{delivery.pk}/redeliver/")[0] == 404
    assert other.delete(f"webhooks/{pk}/")[0] == 404
    after = Webhook.objects.get(pk=pk)
    assert (after.url, after.secret, after.active) == (webhook.url, webhook.secret, True)
    assert Delivery.objects.count() == 1 and Delivery.objects.get().attempts == 0


def test_anonymous_callers_are_refused(webhook):
    anonymous = Api()
    assert anonymous.get("webhooks/")[0] == 403
    assert anonymous.get(f"webhooks/{webhook.pk}/")[0] == 403
    assert anonymous.post("webhooks/", {"target_url": "http://127.0.0.1/"})[0] == 403
    assert Webhook.objects.count() == 1


def test_admins_see_every_webhook(webhook, superuser, stranger):
    webhook_create(owner=stranger, url="http://127.0.0.1:9/other")
    status, data = Api(superuser).get("webhooks/")
    assert status == 200 and len(data) == 2
    assert Api(superuser).get(f"webhooks/{webhook.pk}/")[0] == 200


def test_only_the_latest_version_has_webhooks(webhook, submitter_user):
    unversioned = Api(submitter_user, prefix="/api/")
    status, data = unversioned.get(f"webhooks/{webhook.pk}/")
    assert status == 200 and data["url"] == f"http://testserver/api/webhooks/{webhook.pk}/"
    old = Client().get(
        "/api/1.3/webhooks/", HTTP_AUTHORIZATION=unversioned.auth["HTTP_AUTHORIZATION"]
    )
    assert old.status_code == 404


def test_lists_cost_a_fixed_number_of_queries(
    api, submitter_user, webhook, django_assert_max_num_queries
):
    for n in range(8):
        other, _ = webhook_create(owner=submitter_user, url=f"http://127.0.0.1:9/{n}")
        other.projects.set([make_project(), make_project()])
        webhook.deliveries.create(category="ping")
    with django_assert_max_num_queries(6):
        assert api.get("webhooks/")[0] == 200
    with django_assert_max_num_queries(6):
        assert api.get(f"webhooks/{webhook.pk}/deliveries/")[0] == 200


def test_pagination_with_a_link_header(api, webhook):
    for _ in range(5):
        webhook.deliveries.create(category="ping")
    response = api.client.get(f"/api/1.4/webhooks/{webhook.pk}/deliveries/?per_page=2", **api.auth)
    assert len(response.json()) == 2 and 'rel="next"' in response["Link"]
