from __future__ import annotations

from django.urls import path

from apps.webhooks import views

urlpatterns = [
    path("user/webhooks/", views.webhook_list, name="webhook-list"),
    path("user/webhooks/add/", views.webhook_create, name="webhook-create"),
    path("user/webhooks/<int:webhook_id>/", views.webhook_detail, name="webhook-detail"),
    path("user/webhooks/<int:webhook_id>/rotate/", views.webhook_rotate, name="webhook-rotate"),
    path("user/webhooks/<int:webhook_id>/ping/", views.webhook_ping, name="webhook-ping"),
    path("user/webhooks/<int:webhook_id>/delete/", views.webhook_delete, name="webhook-delete"),
    path(
        "user/webhooks/<int:webhook_id>/deliveries/",
        views.delivery_list,
        name="webhook-deliveries",
    ),
    path(
        "user/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/",
        views.delivery_detail,
        name="webhook-delivery",
    ),
    path(
        "user/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="webhook-redeliver",
    ),
]
