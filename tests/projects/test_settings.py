"""Settings come from environment variables and fail loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

ROOT = Path(__file__).resolve().parents[2]


def _settings_in_subprocess(env: dict, expr: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    code = (
        f"import django, os; django.setup(); from django.conf import settings as s; print({expr})"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_typed_readers(monkeypatch, tmp_path):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1) == 12
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    assert env_str("X_SECRET") == "from-a-file"
    assert env_int("X_MISSING", 7) == 7


@pytest.mark.parametrize(
    ("reader", "value"), [(env_bool, "maybe"), (env_int, "ten")], ids=["bool", "int"]
)
def test_bad_values_fail_loudly(monkeypatch, reader, value):
    monkeypatch.setenv("X_BAD", value)
    with pytest.raises(ImproperlyConfigured, match="X_BAD"):
        reader("X_BAD", 1)


def test_patchwork_settings_have_the_manuals_defaults():
    result = _settings_in_subprocess(
        {"DEBUG": "1"},
        "[s.DEFAULT_ITEMS_PER_PAGE, s.REST_RESULTS_PER_PAGE, s.MAX_REST_RESULTS_PER_PAGE,"
        " s.ENABLE_XMLRPC, s.ENABLE_REST_API, s.COMPAT_REDIR, s.FORCE_HTTPS_LINKS,"
        " s.CONFIRMATION_VALIDITY_DAYS, s.NOTIFICATION_DELAY_MINUTES]",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[100, 30, 100, True, True, True, False, 7, 10]"


def test_embedded_defaults_are_sqlite_in_memory_layer_and_eager_tasks():
    result = _settings_in_subprocess(
        {"DEBUG": "1"},
        "s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'],"
        " s.CELERY_TASK_ALWAYS_EAGER",
    )
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout and "InMemoryChannelLayer" in result.stdout
    assert result.stdout.strip().endswith("True")


def test_database_and_redis_urls_switch_to_the_real_topology():
    result = _settings_in_subprocess(
        {
            "DEBUG": "1",
            "DATABASE_URL": "postgres://pw:secret@db.example:5432/pw",
            "REDIS_URL": "redis://cache.example:6379/0",
            "CELERY_TASK_ALWAYS_EAGER": "",
        },
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'],"
        " s.CHANNEL_LAYERS['default']['BACKEND'], s.CELERY_BROKER_URL",
    )
    assert result.returncode == 0, result.stderr
    assert "postgresql" in result.stdout and "db.example" in result.stdout
    assert "RedisChannelLayer" in result.stdout and "redis://cache.example" in result.stdout


def test_settings_override_from_env():
    result = _settings_in_subprocess(
        {"DEBUG": "1", "REST_RESULTS_PER_PAGE": "5", "ENABLE_XMLRPC": "false"},
        "s.REST_RESULTS_PER_PAGE, s.ENABLE_XMLRPC",
    )
    assert result.stdout.strip() == "5 False"


def test_secret_key_is_required_without_debug():
    result = _settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": ""}, "1")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_passes_with_production_like_env():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    env.update(
        DEBUG="0",
        SECRET_KEY="x" * 64 + "-production-like-secret-key-with-enough-entropy",
        ALLOWED_HOSTS="patchwork.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
