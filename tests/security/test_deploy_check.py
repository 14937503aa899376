"""`manage.py check --deploy` is clean with the documented production settings, and it bites."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "patchwork.env.example"


def example_env(tmp_path: Path) -> dict[str, str]:
    """deploy/patchwork.env.example as systemd would read it, secrets in files of our own."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    for line in EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    (tmp_path / "secret_key").write_text("k" * 60 + "-a-long-random-production-secret\n")
    (tmp_path / "intake").write_text("intake-token\n")
    env["SECRET_KEY_FILE"] = str(tmp_path / "secret_key")
    env["MAIL_INTAKE_TOKEN_FILE"] = str(tmp_path / "intake")
    env["STATIC_ROOT"] = str(tmp_path / "static")
    # `check` touches no database; keep SQLite so it needs no server.
    env.pop("DATABASE_URL", None)
    env["PATCHWORK_VAR_DIR"] = str(tmp_path)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_documented_production_settings_pass_check_deploy(tmp_path):
    result = check_deploy(example_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_when_hardening_is_switched_off(tmp_path):
    env = example_env(tmp_path)
    env.update(SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0", SECURE_HSTS_SECONDS="0")
    result = check_deploy(env)
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012"):
        assert check in result.stdout + result.stderr, check
