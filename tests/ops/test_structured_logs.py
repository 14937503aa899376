"""LOG_FORMAT=json: every log line is one JSON object; a bad LOG_FORMAT stops start-up."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from config.logformat import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import logging, django
django.setup()
log = logging.getLogger("apps.demo")
log.warning("patch %s updated", 42, extra={"patch_id": 42})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("it broke")
"""


def run(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env={
            **os.environ,
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(ROOT),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_formatter_keeps_message_level_extras_and_exception():
    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "apps.mail", logging.ERROR, __file__, 1, "mail %s failed", ("<a@b>",), sys.exc_info()
        )
    record.mail_id = 7

    entry = json.loads(JsonFormatter().format(record))

    assert entry["level"] == "ERROR"
    assert entry["logger"] == "apps.mail"
    assert entry["message"] == "mail <a@b> failed"
    assert entry["mail_id"] == 7
    assert "ValueError: bad value" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_log_format_json_makes_every_line_json():
    result = run(LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    demo = [line for line in lines if line["logger"] == "apps.demo"]
    assert demo[0]["message"] == "patch 42 updated"
    assert demo[0]["patch_id"] == 42
    assert demo[0]["level"] == "WARNING"
    assert demo[1]["message"] == "it broke"
    assert "ZeroDivisionError" in demo[1]["exception"]


def test_plain_format_is_the_default():
    result = run()

    assert result.returncode == 0, result.stderr
    assert "WARNING apps.demo patch 42 updated" in result.stderr


def test_unknown_log_format_stops_startup_naming_the_variable():
    result = run(LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT='xml' must be 'plain' or 'json'" in result.stderr
