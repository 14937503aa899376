"""In a real browser: filter and sort the patch list, bulk-change state, triage by keyboard,
add patches to a bundle and reorder it; screenshots of the main pages.

daphne serves the test database from a subprocess; Debian's chromium drives the pages.
Screenshots at desktop and phone widths (and one dark one) go to test-artifacts/ui/.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.patches.models import Bundle, Patch, PatchTag
from apps.projects.models import Tag
from tests import browsers
from tests.browsers import DESKTOP, PHONE, needs_chromium, new_page
from tests.factories import (
    default_state,
    make_check,
    make_cover,
    make_patch,
    make_patch_comment,
    make_person,
    make_project,
    make_series,
    make_user,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


def shoot(page, name: str) -> None:
    browsers.shoot(page, "ui", name)


def row_names(page) -> list[str]:
    return page.locator("#patch-table tbody tr td.name a").all_inner_texts()


def state_of(patch) -> str:
    return Patch.objects.get(pk=patch.pk).state.slug


@pytest.fixture
def demo():
    """A project with a maintainer, a user and a few patches from two people."""

    maintainer = make_user("maintainer", first_name="Mae", last_name="Maintainer")
    project = make_project("demo", name="Demo", maintainers=[maintainer])
    alice = make_person("alice@example.org", name="Alice Liddell")
    bob = make_person("bob@example.org", name="Bob Builder")
    now = timezone.now()
    patches = [
        make_patch(
            project,
            name=f"[PATCH] {word} the widget",
            submitter=alice if n % 2 == 0 else bob,
            date=now - timedelta(hours=n),
        )
        for n, word in enumerate(["alpha", "bravo", "charlie", "delta", "echo"])
    ]
    return {"project": project, "maintainer": maintainer, "patches": patches, "alice": alice}


def test_filter_and_sort_the_list(server, browser, demo):
    page = new_page(browser, server)
    page.goto(f"{server.url}/project/demo/list/")
    assert row_names(page)[0] == "[PATCH] alpha the widget"  # newest first
    page.evaluate("window.__sameDocument = true")

    page.get_by_label("Submitter").fill("Alice Liddell")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/list/?submitter=Alice%20Liddell")  # empty fields left out
    page.wait_for_function("document.querySelectorAll('#patch-table tbody tr').length === 3")
    assert all("Alice" in t for t in page.locator("td.col-submitter").all_inner_texts())

    page.locator("#patch-table thead").get_by_role("link", name="Patch").click()
    page.wait_for_url("**order=name*")
    page.wait_for_function(
        "document.querySelector('#patch-table tbody td.name a').textContent.includes('alpha')"
    )
    assert row_names(page) == [
        "[PATCH] alpha the widget",
        "[PATCH] charlie the widget",
        "[PATCH] echo the widget",
    ]
    page.locator("#patch-table thead").get_by_role("link", name="Patch").click()
    page.wait_for_url("**order=-name*")
    page.wait_for_function(
        "document.querySelector('#patch-table tbody td.name a').textContent.includes('echo')"
    )
    # Everything happened in place, and the URL can be shared: loading it gives the same view.
    assert page.evaluate("window.__sameDocument") is True
    shared = page.url
    other = new_page(browser, server)
    other.goto(shared)
    assert row_names(other) == row_names(page)
    assert page.js_errors == [] and other.js_errors == []


# Marks every row the server rendered, as soon as the document is parsed (before
# the live socket opens): a row swapped later is a new element, without the mark.
MARK_ROWS = """
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("tr.patch-row").forEach((row) => { row.__rendered = true; });
});
window.__liveApplied = 0;
document.addEventListener("live:applied", () => { window.__liveApplied += 1; });
"""


def test_a_state_term_typed_in_the_search_takes_over_the_state_menu(server, browser, demo):
    from playwright.sync_api import expect

    accepted = demo["patches"][1]
    Patch.objects.filter(pk=accepted.pk).update(state=default_state("accepted"))
    page = new_page(browser, server)
    page.goto(f"{server.url}/project/demo/list/")
    assert accepted.name not in row_names(page)  # the State menu: action required
    page.get_by_label("Search").fill("state:accepted")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url("**/list/?q=state*")
    page.locator("#search-owns").wait_for()
    assert row_names(page) == [accepted.name]
    expect(page.locator("#filter-state")).to_be_disabled()
    assert "state" in page.locator("#search-owns").inner_text()
    # Without the term, the menu is back.
    page.get_by_label("Search").fill("")
    page.get_by_label("Search").press("Enter")
    expect(page.locator("#search-owns")).to_have_count(0)
    expect(page.locator("#filter-state")).to_be_enabled()
    assert accepted.name not in row_names(page)
    assert page.js_errors == []


def test_maintainer_bulk_changes_state_with_a_shift_click_range(server, browser, demo):
    patches = demo["patches"]
    page = new_page(browser, server, demo["maintainer"])
    page.add_init_script(MARK_ROWS)
    page.goto(f"{server.url}/project/demo/list/")
    page.evaluate("window.__sameDocument = true")
    boxes = page.locator("#patch-table tbody input[name=patch_id]")
    # Clicked at once, not waiting for the live connection: when it opens it must
    # leave the rows (and the range's anchor) alone.
    boxes.nth(0).click()
    boxes.nth(2).click(modifiers=["Shift"])  # selects rows 1 to 3
    assert page.locator("#selected-count").inner_text() == "3 selected"
    # The connection's catch-up applied (polled from here: a string predicate in
    # wait_for_function is an eval, which the page's CSP refuses after a while).
    deadline = time.monotonic() + 15
    while not page.evaluate("window.__liveApplied > 0"):
        assert time.monotonic() < deadline, "the live connection's catch-up never applied"
        page.wait_for_timeout(50)
    assert page.locator("#selected-count").inner_text() == "3 selected"
    rows = page.locator("#patch-table tbody tr.patch-row")
    assert rows.evaluate_all("rows => rows.filter(r => !r.__rendered).length") == 0
    assert page.locator("tr.changed, tr.live-new").count() == 0  # nothing flashed on load
    page.get_by_label("State", exact=True).last.select_option("accepted")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Updated 3 patches.").wait_for()
    for patch in patches[:3]:
        assert state_of(patch) == "accepted"
    assert [state_of(p) for p in patches[3:]] == ["new", "new"]
    for patch in patches[:3]:
        assert page.locator(f"#patch-row-{patch.pk} td.col-state").inner_text() == "Accepted"
    assert page.evaluate("window.__sameDocument") is True
    shoot(page, "patch-list-bulk-desktop")
    assert page.js_errors == []


def test_keyboard_triage(server, browser, demo):
    patches = demo["patches"]
    page = new_page(browser, server, demo["maintainer"])
    page.goto(f"{server.url}/project/demo/list/")
    page.keyboard.press("j")
    assert page.locator("tr.current").get_attribute("id") == f"patch-row-{patches[0].pk}"
    page.keyboard.press("a")  # accept the current patch and move on
    page.locator(f"#patch-row-{patches[0].pk} td.col-state", has_text="Accepted").wait_for()
    assert state_of(patches[0]) == "accepted"
    assert page.locator("tr.current").get_attribute("id") == f"patch-row-{patches[1].pk}"
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    assert page.locator("#selected-count").inner_text() == "2 selected"
    page.keyboard.press("r")  # reject the selection
    page.locator(f"#patch-row-{patches[2].pk} td.col-state", has_text="Rejected").wait_for()
    assert [state_of(p) for p in patches[1:3]] == ["rejected", "rejected"]
    page.keyboard.press("k")
    assert page.locator("tr.current").get_attribute("id") == f"patch-row-{patches[1].pk}"
    page.keyboard.press("?")
    assert page.locator("#shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("o")
    page.wait_for_url(f"**/patch/{patches[1].url_msgid}/")
    assert page.locator("h1").inner_text() == patches[1].name
    assert page.js_errors == []


def test_add_to_a_bundle_and_reorder_it(server, browser, demo):
    user = make_user("reviewer")
    patches = demo["patches"]
    page = new_page(browser, server, user)
    page.goto(f"{server.url}/project/demo/list/")
    boxes = page.locator("#patch-table tbody input[name=patch_id]")
    for n in range(3):
        boxes.nth(n).check()
    page.get_by_label("New bundle name").fill("for-next")
    page.get_by_role("button", name="Add to bundle").click()
    page.get_by_text("Created bundle 'for-next' with 3 patch(es).").wait_for()
    bundle = Bundle.objects.get(owner=user, name="for-next")
    ids = [p.pk for p in patches[:3]]
    assert list(bundle.bundlepatches.order_by("order").values_list("patch_id", flat=True)) == ids

    page.goto(f"{server.url}/user/bundles/")
    page.get_by_role("link", name="for-next").click()
    page.wait_for_url("**/bundle/reviewer/for-next/")
    items = page.locator("#bundle-patches li")
    items.nth(2).drag_to(items.nth(0), target_position={"x": 20, "y": 2})
    page.get_by_text("Order saved.").wait_for()
    expected = [ids[2], ids[0], ids[1]]

    def saved_order():
        return list(bundle.bundlepatches.order_by("order").values_list("patch_id", flat=True))

    assert saved_order() == expected
    page.evaluate("document.getElementById('bundle-status').textContent = ''")
    page.get_by_role("button", name=f"Move {patches[2].name} down").click()
    page.get_by_text("Order saved.").wait_for()
    assert saved_order() == [ids[0], ids[2], ids[1]]
    page.reload()
    assert [int(i) for i in items.evaluate_all("els => els.map(e => e.dataset.patchId)")] == [
        ids[0],
        ids[2],
        ids[1],
    ]
    shoot(page, "bundle-desktop")
    assert page.js_errors == []


def _rich_demo(maintainer, project, alice) -> dict:
    """A series with a cover, comments, checks, tags and a two-file diff, for screenshots."""
    cover = make_cover(project, name="[PATCH 0/3] widgets: faster frobnication", submitter=alice)
    series = make_series(
        project, name="widgets: faster frobnication", total=3, cover=cover, submitter=alice
    )
    diff = (
        "diff --git a/widgets/frob.c b/widgets/frob.c\n"
        "index 1111111..2222222 100644\n--- a/widgets/frob.c\n+++ b/widgets/frob.c\n"
        "@@ -10,7 +10,8 @@ static int frob(struct widget *w)\n"
        " {\n-\tfor (i = 0; i < n; i++)\n-\t\tslow_frob(w, i);\n"
        "+\tif (!w)\n+\t\treturn -EINVAL;\n+\tfast_frob(w, n);\n \treturn 0;\n }\n"
        "diff --git a/Documentation/widgets.rst b/Documentation/widgets.rst\n"
        "--- a/Documentation/widgets.rst\n+++ b/Documentation/widgets.rst\n"
        "@@ -1,3 +1,4 @@\n Widgets\n =======\n+Frobnication is now O(1).\n"
    )
    now = timezone.now()
    patches = []
    for n in (1, 2, 3):
        patches.append(
            make_patch(
                project,
                name=f"[PATCH {n}/3] widgets: step {n} of faster frobnication",
                submitter=alice,
                series=series,
                number=n,
                diff=diff,
                date=now - timedelta(minutes=10 - n),
                content="Frobnicate in constant time.\n\nSigned-off-by: Alice Liddell "
                "<alice@example.org>",
            )
        )
    ci = make_user("ci-bot")
    make_check(patches[0], ci, context="build", state="success", description="gcc 13: ok")
    make_check(patches[0], ci, context="checkpatch", state="warning", description="1 warning")
    make_check(patches[0], ci, context="tests", state="fail", description="2 of 340 failed")
    make_patch_comment(
        patches[0],
        content="> +\tif (!w)\n> +\t\treturn -EINVAL;\n\nLooks right.\n\n"
        "Reviewed-by: Mae Maintainer <mae@example.org>",
        submitter=make_person("mae@example.org", name="Mae Maintainer"),
    )
    PatchTag.objects.create(patch=patches[0], tag=Tag.objects.get(abbrev="R"), count=1)
    for n in range(8):
        make_patch(project, name=f"[PATCH v{n % 3 + 1}] net: fix thing number {n}")
    return {"patches": patches, "series": series, "cover": cover}


def test_screenshots_of_the_main_pages(server, browser, demo):
    maintainer, project = demo["maintainer"], demo["project"]
    project.list_archive_url_format = "https://lore.example.org/r/{}"
    project.save()
    rich = _rich_demo(maintainer, project, demo["alice"])
    patch = rich["patches"][0]
    bundle = Bundle.objects.create(owner=maintainer, project=project, name="applied", public=True)
    for n, p in enumerate(rich["patches"], start=1):
        bundle.bundlepatches.create(patch=p, order=n)
    pages = {
        "projects": "/",
        "project": "/project/demo/",
        "patch-list": "/project/demo/list/",
        "patch": f"/project/demo/patch/{patch.url_msgid}/",
        "cover": f"/project/demo/cover/{rich['cover'].url_msgid}/",
        "series": f"/series/{rich['series'].pk}/",
        "bundle": "/bundle/maintainer/applied/",
        "todo": "/user/todo/",
    }
    for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = new_page(browser, server, maintainer, viewport=viewport)
        for name, path in pages.items():
            page.goto(server.url + path)
            shoot(page, f"{name}-{width_name}")
        assert page.js_errors == []
    dark = new_page(browser, server, maintainer, color_scheme="dark")
    for name in ("patch-list", "patch"):
        dark.goto(server.url + pages[name])
        shoot(dark, f"{name}-desktop-dark")
    # Text and background follow the system setting.
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"
