"""CI must test against the real services, never silently fall back to embedded defaults."""

import os

import pytest
from django.conf import settings
from django.db import connection

required = os.environ.get("PATCHWORK_REQUIRE_SERVICES") == "1"


@pytest.mark.skipif(not required, reason="PATCHWORK_REQUIRE_SERVICES is not set (embedded run)")
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.skipif(not required, reason="PATCHWORK_REQUIRE_SERVICES is not set (embedded run)")
def test_channel_layer_and_broker_are_redis():
    import redis

    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert redis.Redis.from_url(settings.REDIS_URL).ping()
