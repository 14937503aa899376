"""What a newcomer notices in the first minute: the tab's icon, and the footer's
"? keyboard shortcuts" offered only where shortcuts exist, and working there."""

from __future__ import annotations

import urllib.request

import pytest

from tests.browsers import chromium, needs_chromium
from tests.demo_server import demo_server

pytestmark = [pytest.mark.browser, pytest.mark.e2e, needs_chromium]

# Pages with the patch table (and its shortcuts), and pages without.
WITH_SHORTCUTS = ["/project/patchwork/list/", "/series/1/"]
WITHOUT_SHORTCUTS = ["/", "/project/patchwork/", "/about/", "/patch/1/", "/user/login/"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    daphne, _ = demo_server(tmp_path_factory.mktemp("first-impression"))
    try:
        yield daphne
    finally:
        daphne.stop()


def test_every_page_links_a_favicon_that_resolves(site):
    with chromium() as browser:
        page = browser.new_page()
        for path in ["/", "/project/patchwork/list/", "/about/"]:
            page.goto(site.url + path)
            href = page.locator("link[rel=icon]").get_attribute("href")
            assert href and href.endswith(".svg"), path
            with urllib.request.urlopen(site.url + href, timeout=30) as response:
                assert response.headers["Content-Type"].startswith("image/svg+xml")
                assert b"<svg" in response.read()
        # Where a page names none (JSON, raw mbox), browsers try /favicon.ico.
        with urllib.request.urlopen(f"{site.url}/favicon.ico", timeout=30) as response:
            assert response.headers["Content-Type"].startswith("image/svg+xml")


def test_keyboard_shortcuts_are_offered_only_where_they_work(site):
    with chromium() as browser:
        page = browser.new_page()
        for path in WITHOUT_SHORTCUTS:
            page.goto(site.url + path)
            footer = page.locator("footer.site-footer")
            assert "keyboard shortcuts" not in footer.inner_text(), path
            assert page.locator("#shortcuts").count() == 0, path
        for path in WITH_SHORTCUTS:
            page.goto(site.url + path)
            dialog = page.locator("dialog#shortcuts")
            # The footer's link opens the help ...
            page.locator("footer.site-footer").get_by_role(
                "button", name="keyboard shortcuts"
            ).click()
            assert dialog.evaluate("d => d.open"), path
            page.get_by_role("button", name="Close").click()
            assert not dialog.evaluate("d => d.open"), path
            # ... and so does the key it names.
            page.keyboard.press("?")
            assert dialog.evaluate("d => d.open"), path
            page.keyboard.press("Escape")
