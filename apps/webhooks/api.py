"""REST endpoints for webhooks (latest API version only): /webhooks/ and deliveries."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["webhooks"])
