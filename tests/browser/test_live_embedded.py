"""The embedded default's headline feature: a mail from another process appears live.

`./dev serve` has no Redis: its channel layer lives in the web process's memory. A
mail piped through `manage.py parsemail` (the README's MTA path) is ingested in
another process, and must still reach an open list page without a reload — within
a few seconds, not at the page's next 25 s heartbeat.
"""

from __future__ import annotations

import pytest

from tests.browsers import chromium, needs_chromium
from tests.demo_server import demo_server, manage

pytestmark = [pytest.mark.browser, pytest.mark.e2e, needs_chromium]

# A functional bound (the heartbeat's catch-up would take up to 25 s), not a benchmark.
APPEARS_WITHIN_MS = 3000

MAIL = b"""\
From: Gus Grace <gus@example.org>
To: patchwork@lists.example.org
Subject: [PATCH] mboxstat: print a total line
Date: Fri, 10 May 2024 10:00:00 +0000
Message-Id: <total-line.1@example.org>
List-Id: Patchwork development <patchwork.lists.example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

Readers want the sum without adding up the column themselves.

Signed-off-by: Gus Grace <gus@example.org>
---
diff --git a/TOTAL b/TOTAL
new file mode 100644
--- /dev/null
+++ b/TOTAL
@@ -0,0 +1 @@
+total
"""


@pytest.fixture
def server(tmp_path):
    daphne, env = demo_server(tmp_path)
    try:
        yield daphne, env
    finally:
        daphne.stop()


def test_a_mail_parsed_by_another_process_appears_on_the_open_list(server):
    from playwright.sync_api import expect

    daphne, env = server
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{daphne.url}/project/patchwork/list/")
        page.wait_for_selector("[data-live-state='live']", timeout=15000)
        row = page.locator("#patch-table tbody tr", has_text="mboxstat: print a total line")
        expect(row).to_have_count(0)

        done = manage(env, "parsemail", stdin=MAIL)
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.decode().startswith("parsed: patch")

        expect(row).to_be_visible(timeout=APPEARS_WITHIN_MS)
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
