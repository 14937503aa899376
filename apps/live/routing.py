"""Websocket URL routes: one consumer, one URL per kind of live page."""

from __future__ import annotations

from django.urls import re_path

from apps.live.consumers import LiveConsumer

websocket_urlpatterns = [
    re_path(r"^ws/(?P<kind>[a-z]{1,20})/(?P<object_id>[0-9]{1,18})/$", LiveConsumer.as_asgi()),
]
