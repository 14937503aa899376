"""Confirmation keys appear in no access log line: they travel in POST bodies only.

The probe found them in daphne's (and nginx's) access logs, because the mailed
link carried the key in its path. Run against a real daphne, whose access log
(on stdout) is captured in the server's log file.
"""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

from apps.accounts.models import EmailConfirmation, User
from apps.accounts.services import user_register
from tests.ops.conftest import live

pytestmark = live

PASSWORD = "correct horse battery"


def _opener():
    return urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )


def _post(opener, url: str, data: dict, csrf: str) -> str:
    body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(url, body, headers={"Referer": url})
    with opener.open(request, timeout=30) as response:
        return response.read().decode()


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_confirming_a_registration_logs_no_key(daphne):
    server = daphne()
    confirmation = user_register(username="newbie", email="nora@example.org", password=PASSWORD)
    key = confirmation.key
    opener = _opener()
    # What a browser requests for the mailed link https://site/confirm/#<key>.
    url = f"{server.url}/confirm/"
    with opener.open(url, timeout=30) as response:
        page = response.read().decode()
    shown = _post(opener, url, {"key": key}, _csrf(page))
    assert "Activate your account" in shown
    done = _post(opener, url, {"key": key, "confirm": "1", "password": PASSWORD}, _csrf(shown))
    assert "newbie" in done
    assert User.objects.get(username="newbie").is_active
    assert not EmailConfirmation.objects.get(pk=confirmation.pk).active
    server.stop()
    log = server.log_path.read_text(errors="replace")
    access = [line for line in log.splitlines() if "/confirm/" in line]
    assert len(access) >= 3, log  # the access lines were captured ...
    assert key not in log  # ... and no line, access or other, holds the key
