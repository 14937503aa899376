"""Every kind of page, in Chromium, without a console error or an uncaught exception.

The pages are those of `./dev serve` with the demo (embedded default, a SQLite file
of its own, no Redis), visited anonymously and as a logged-in maintainer. A failed
sub-resource (a missing favicon, script or stylesheet) is a console error too.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browsers import chromium, needs_chromium
from tests.demo_server import demo_server, manage

pytestmark = [pytest.mark.browser, pytest.mark.e2e, needs_chromium]

PASSWORD = "a newcomer's password"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    daphne, env = demo_server(tmp_path_factory.mktemp("console"))
    try:
        done = manage(
            {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            "createsuperuser",
            "--noinput",
            "--username=admin",
            "--email=admin@example.org",
        )
        assert done.returncode == 0, done.stderr.decode()
        yield daphne
    finally:
        daphne.stop()


def api(site, path: str) -> list[dict]:
    with urllib.request.urlopen(f"{site.url}/api/1.4/{path}", timeout=30) as response:
        return json.load(response)


def anonymous_pages(site) -> list[str]:
    patch = api(site, "patches/?project=patchwork&per_page=1&order=-id")[0]
    cover = api(site, "covers/?project=patchwork&per_page=1")[0]
    series = api(site, "series/?project=patchwork&per_page=1")[0]
    return [
        "/",
        "/project/patchwork/",
        "/project/patchwork/list/",
        "/project/patchwork/list/?state=*&archive=both&q=mboxstat&order=-date",
        "/project/patchwork/series/",
        f"/patch/{patch['id']}/",
        f"/cover/{cover['id']}/",
        f"/series/{series['id']}/",
        "/bundle/dave/for-1.0/",
        "/about/",
        "/pwclient/",
        "/xmlrpc/",
        "/user/login/",
        "/register/",
        "/user/password-reset/",
        "/mail/settings/",
        # Where a page names no icon, browsers ask for /favicon.ico.
        "/favicon.ico",
    ]


MAINTAINER_PAGES = [
    "/user/",
    "/user/todo/",
    "/user/todo/patchwork/",
    "/user/bundles/",
    "/user/webhooks/",
    "/user/webhooks/add/",
    "/project/patchwork/list/",
    "/project/patchwork/series/",
    "/patch/4/",
    "/series/2/",
    "/bundle/dave/for-1.0/",
    "/mail/settings/",
]


class Console:
    """What a page reported: console errors, uncaught exceptions, failed requests."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on(
            "console",
            lambda m: m.type == "error" and self.problems.append(f"console: {m.text} {m.location}"),
        )
        page.on("pageerror", lambda e: self.problems.append(f"exception: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))


def visit(page, console: Console, url: str) -> list[str]:
    console.problems.clear()
    response = page.goto(url, wait_until="networkidle")
    assert response is not None
    if page.locator("[data-live-cursor]").count():
        page.wait_for_selector("[data-live-state='live']", timeout=15000)
    page.wait_for_timeout(300)  # late script work (htmx swaps, the live catch-up)
    return list(console.problems)


def test_no_console_errors_on_any_page(site):
    found: dict[str, list[str]] = {}
    with chromium() as browser:
        page = browser.new_page()
        console = Console(page)
        for path in anonymous_pages(site):
            if problems := visit(page, console, site.url + path):
                found[path] = problems

        page.goto(f"{site.url}/user/login/")
        page.get_by_label("Username").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("networkidle")
        # A superuser triages every project: these pages show the maintainer's controls.
        for path in MAINTAINER_PAGES:
            if problems := visit(page, console, site.url + path):
                found[f"{path} (logged in)"] = problems
    assert found == {}
