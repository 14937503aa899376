"""Websocket URL routes (consumers arrive with the live-pages work)."""

from __future__ import annotations

websocket_urlpatterns: list = []
