"""The profile pages: create (secret shown once), edit, rotate, ping, delete, delivery log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook
from apps.webhooks.services import webhook_create
from tests.factories import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client, submitter_user):
    client.force_login(submitter_user)
    return client


@pytest.fixture
def webhook(submitter_user, receiver):
    webhook, _ = webhook_create(owner=submitter_user, url=receiver.url, description="CI")
    return webhook


def test_create_shows_the_secret_once_and_pings(
    owner_client, submitter_user, receiver, project, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("webhook-create"),
            {
                "url": receiver.url,
                "description": "kernel CI",
                "projects": [project.pk],
                "categories": ["patch-completed", "series-completed"],
                "active": "on",
            },
        )
    webhook = Webhook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("webhook-detail", args=[webhook.pk])
    assert webhook.owner == submitter_user and list(webhook.projects.all()) == [project]
    assert webhook.categories == ["patch-completed", "series-completed"]
    page = owner_client.get(response["Location"]).content.decode()
    assert webhook.secret in page
    again = owner_client.get(response["Location"]).content.decode()
    assert webhook.secret not in again
    (ping,) = receiver.requests
    assert ping.headers["x-patchwork-event"] == "ping"


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://ci.example.org/", "Only http:// and https://"), ("", "This field is required")],
)
def test_bad_urls_are_explained_and_create_nothing(owner_client, url, message):
    response = owner_client.post(reverse("webhook-create"), {"url": url, "active": "on"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Webhook.objects.exists()


def test_private_targets_are_refused_in_production(owner_client, production_targets):
    response = owner_client.post(
        reverse("webhook-create"), {"url": "http://169.254.169.254/latest/", "active": "on"}
    )
    assert "not allowed" in response.content.decode()
    assert not Webhook.objects.exists()


def test_edit_changes_filters_and_disabling_stops_sending(owner_client, webhook):
    other = make_project("other")
    response = owner_client.post(
        reverse("webhook-detail", args=[webhook.pk]),
        {"url": webhook.url, "description": "new", "projects": [other.pk], "categories": []},
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.description == "new" and not webhook.active
    assert list(webhook.projects.all()) == [other]
    assert webhook.categories == []


def test_rotate_shows_the_new_secret_once(owner_client, webhook):
    old = webhook.secret
    response = owner_client.post(
        reverse("webhook-rotate", args=[webhook.pk]), {"overlap_hours": "2"}, follow=True
    )
    webhook.refresh_from_db()
    assert webhook.secret != old and webhook.previous_secret == old
    page = response.content.decode()
    assert webhook.secret in page and old not in page


def test_rotate_refuses_a_bad_overlap(owner_client, webhook):
    old = webhook.secret
    response = owner_client.post(
        reverse("webhook-rotate", args=[webhook.pk]), {"overlap_hours": "9999"}, follow=True
    )
    assert "Choose an overlap" in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.secret == old


def test_ping_and_delete(owner_client, webhook):
    owner_client.post(reverse("webhook-ping", args=[webhook.pk]))
    assert webhook.deliveries.filter(category="ping").count() == 2  # creation + on demand
    assert owner_client.get(reverse("webhook-delete", args=[webhook.pk])).status_code == 200
    response = owner_client.post(reverse("webhook-delete", args=[webhook.pk]))
    assert response.status_code == 302 and not Webhook.objects.exists()
    assert not Delivery.objects.exists()


def test_delivery_log_failed_filter_detail_and_redeliver(
    owner_client, webhook, django_capture_on_commit_callbacks, receiver
):
    from apps.webhooks.delivery import delivery_attempt

    ok = webhook.deliveries.get()
    delivery_attempt(delivery_id=ok.pk)
    receiver.respond(500, body=b"<script>alert(1)</script>")
    bad = webhook.deliveries.create(category="ping")
    delivery_attempt(delivery_id=bad.pk)

    url = reverse("webhook-deliveries", args=[webhook.pk])
    everything = owner_client.get(url).content.decode()
    assert ok.message_id in everything and bad.message_id in everything
    failed = owner_client.get(url, {"failed": "1"}).content.decode()
    assert bad.message_id in failed and ok.message_id not in failed

    detail = owner_client.get(reverse("webhook-delivery", args=[webhook.pk, bad.pk]))
    page = detail.content.decode()
    assert "HTTP 500" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert webhook.secret not in page

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(reverse("webhook-redeliver", args=[webhook.pk, ok.pk]))
    assert [r.headers["webhook-id"] for r in receiver.requests].count(ok.message_id) == 2


def test_pages_cost_a_fixed_number_of_queries(
    owner_client, webhook, submitter_user, django_assert_max_num_queries
):
    for n in range(5):
        other, _ = webhook_create(owner=submitter_user, url=f"http://127.0.0.1:9/{n}")
        other.projects.set([make_project()])
        for _ in range(10):
            webhook.deliveries.create(category="ping", last_error="HTTP 500")
    with django_assert_max_num_queries(8):
        assert owner_client.get(reverse("webhook-list")).status_code == 200
    with django_assert_max_num_queries(8):
        response = owner_client.get(reverse("webhook-deliveries", args=[webhook.pk]))
        assert response.status_code == 200
    with django_assert_max_num_queries(10):
        assert owner_client.get(reverse("webhook-detail", args=[webhook.pk])).status_code == 200


def test_another_user_gets_404_everywhere_and_changes_nothing(client, stranger, webhook):
    delivery = webhook.deliveries.get()
    client.force_login(stranger)
    pk = webhook.pk
    gets = [
        reverse("webhook-detail", args=[pk]),
        reverse("webhook-delete", args=[pk]),
        reverse("webhook-deliveries", args=[pk]),
        reverse("webhook-delivery", args=[pk, delivery.pk]),
    ]
    posts = [
        (reverse("webhook-detail", args=[pk]), {"url": "http://127.0.0.1:1/x", "active": "on"}),
        (reverse("webhook-rotate", args=[pk]), {}),
        (reverse("webhook-ping", args=[pk]), {}),
        (reverse("webhook-delete", args=[pk]), {}),
        (reverse("webhook-redeliver", args=[pk, delivery.pk]), {}),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert webhook.url not in client.get(reverse("webhook-list")).content.decode()
    before = Webhook.objects.values().get(pk=pk)
    assert before["url"] == webhook.url and before["secret"] == webhook.secret
    assert Delivery.objects.count() == 1 and not DeliveryAttempt.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client, webhook):
    response = client.get(reverse("webhook-detail", args=[webhook.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_admins_may_look_at_any_webhook(client, superuser, webhook):
    client.force_login(superuser)
    assert client.get(reverse("webhook-detail", args=[webhook.pk])).status_code == 200
