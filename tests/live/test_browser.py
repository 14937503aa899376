"""Live pages in real browsers, on the real topology: two daphne processes, a celery
worker, Redis as channel layer and broker, PostgreSQL.

Browsers are connected to one daphne or the other; changes come from other
processes (parsemail + the worker, the other daphne, the REST API, this test
process), and must show without reload, each exactly once, across a restart.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import Client

from apps.accounts.services import api_token_regenerate
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import Patch
from apps.patches.services import patch_update
from apps.series.models import Series
from tests.browsers import chromium, needs_chromium
from tests.factories import default_state, make_patch, make_project
from tests.live.servers import CeleryWorker, Daphne, parsemail

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail" / "git" / "v1"
WAIT_MS = 20_000


REAL_SERVICES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(
    getattr(settings, "REDIS_URL", "")
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.skipif(
        not REAL_SERVICES,
        reason="needs the real topology (DATABASE_URL=postgres://…, REDIS_URL=redis://…): two "
        "daphne processes and a celery worker must share the database and the channel layer",
    ),
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def topology(django_db_setup, tmp_path_factory):
    """Two daphne processes and one celery worker over the test database and Redis."""
    logs = tmp_path_factory.mktemp("live-topology")
    started = []
    try:
        web_a = Daphne(logs / "daphne-a.log")
        started.append(web_a)
        web_b = Daphne(logs / "daphne-b.log")
        started.append(web_b)
        worker = CeleryWorker(logs / "worker.log")
        started.append(worker)
        yield {"a": web_a, "b": web_b, "worker": worker}
    finally:
        for process in reversed(started):
            process.close() if isinstance(process, Daphne) else process.stop()


@pytest.fixture
def browser():
    """Chromium for one test, started after the test database is set up for it.

    Playwright's sync API runs an event loop in this thread while it is open; the
    ORM calls of the test itself are still plain synchronous code. (Per test, because
    with that loop running the database set-up of the next test would not see the
    test connection's state.)
    """
    with chromium() as instance:
        try:
            yield instance
        finally:
            connections.close_all()  # those opened while Playwright's loop ran


def elsewhere(func, *args):
    """Run a change in another thread, like another process would: its broadcast then
    goes through Redis from a thread without Playwright's event loop."""

    def call():
        try:
            return func(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result(timeout=60)


# Every page records the events live.js applied (each only the first time).
RECORD_APPLIED = """
window.__applied = [];
document.addEventListener("live:applied", (e) => window.__applied.push(...e.detail.events));
"""


def open_live(browser, url: str, user=None):
    """A new browser (context) on url, signed in as user, once its page is live."""
    context = browser.new_context()
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        # For the whole site (the websocket too), as the browser would keep it.
        root = urlsplit(url)._replace(path="/", query="", fragment="").geturl()
        context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": root}])
    page = context.new_page()
    page.add_init_script(RECORD_APPLIED)
    page.goto(url)
    page.evaluate("window.__loaded_once = true")  # gone if the page ever reloads
    page.wait_for_selector("[data-live-state='live']", timeout=WAIT_MS)
    return page


def still_same_page(page) -> bool:
    return page.evaluate("window.__loaded_once === true")


def wait_until(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def frob_project(**fields):
    return make_project(
        "frob", listid="frob.lists.example.org", listemail="frob@lists.example.org", **fields
    )


# --- tests ------------------------------------------------------------------------------


def test_mail_from_parsemail_appears_on_an_open_list_and_series_page(topology, browser):
    from playwright.sync_api import expect

    project = frob_project()
    cover, first, second, third = sorted(MAIL.glob("*.eml"))
    parsemail(cover.read_bytes(), first.read_bytes())
    wait_until(lambda: Patch.objects.filter(project=project).count() == 1, what="first patch")
    series = Series.objects.get(project=project)

    patch_list = open_live(browser, f"{topology['a'].url}/project/frob/list/")
    series_page = open_live(browser, f"{topology['b'].url}/series/{series.pk}/")
    expect(series_page.locator("#series-progress")).to_contain_text("1/3")

    parsemail(third.read_bytes(), second.read_bytes())  # in parallel, in any order

    wait_until(lambda: Patch.objects.filter(project=project).count() == 3, what="ingestion")
    patches = list(Patch.objects.filter(project=project).order_by("number"))
    for page in (patch_list, series_page):
        for patch in patches:
            expect(page.locator(f"#patch-row-{patch.pk}")).to_have_count(1, timeout=WAIT_MS)
        assert still_same_page(page)
    # The list shows the newest on top; the series page keeps the series' order.
    expect(series_page.locator("#series-progress")).to_contain_text("3/3", timeout=WAIT_MS)
    series_rows = series_page.locator("#patch-list-body tr").evaluate_all(
        "rows => rows.map(r => r.id)"
    )
    assert series_rows == [f"patch-row-{p.pk}" for p in patches]
    expect(patch_list.locator("[data-live-count='total']")).to_have_text("3")


def test_state_change_in_one_browser_updates_a_browser_on_the_other_daphne(
    topology, browser, maintainer
):
    from playwright.sync_api import expect

    project = frob_project(maintainers=[maintainer])
    patch = make_patch(project, name="[PATCH] triage me")
    other = make_patch(project, name="[PATCH] leave me")
    watcher = open_live(browser, f"{topology['b'].url}/project/frob/list/")
    triager = open_live(
        browser,
        f"{topology['a'].url}/project/frob/patch/{patch.url_msgid}/",
        user=maintainer,
    )

    triager.select_option("#patch-triage select[name=state]", "under-review")
    triager.click("#patch-triage button[type=submit]")

    row = watcher.locator(f"#patch-row-{patch.pk}")
    expect(row.locator(".state-badge")).to_have_text("Under Review", timeout=WAIT_MS)
    expect(watcher.locator(f"#patch-row-{other.pk} .state-badge")).to_have_text("New")
    # Still a state needing action: the row stays unmarked. Accepted leaves the default list.
    expect(row).not_to_have_class(re.compile(r"\blive-nomatch\b"))
    triager.select_option("#patch-triage select[name=state]", "accepted")
    triager.click("#patch-triage button[type=submit]")
    expect(row).to_have_class(re.compile(r"\blive-nomatch\b"), timeout=WAIT_MS)
    assert still_same_page(watcher)


def test_check_created_through_the_rest_api_appears_on_the_open_patch_page(
    topology, browser, maintainer
):
    from playwright.sync_api import expect

    project = frob_project(maintainers=[maintainer])
    patch = make_patch(project)
    token = api_token_regenerate(user=maintainer)
    page = open_live(browser, f"{topology['b'].url}/project/frob/patch/{patch.url_msgid}/")
    expect(page.locator("#patch-checks")).to_be_hidden()

    response = httpx.post(
        f"{topology['a'].url}/api/patches/{patch.pk}/checks/",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        content=json.dumps(
            {"state": "fail", "context": "ci-build", "description": "link error in frob.c"}
        ),
        timeout=30,
    )
    assert response.status_code == 201, response.text

    checks = page.locator("#patch-checks")
    expect(checks).to_be_visible(timeout=WAIT_MS)
    expect(checks).to_contain_text("ci-build")
    expect(checks).to_contain_text("link error in frob.c")
    assert still_same_page(page)


def burst_step(project, patches, n: int) -> None:
    """One change of a burst: alternately a new patch and a state change."""
    if n % 2 == 0:
        with transaction.atomic():
            patch = make_patch(project, name=f"[PATCH] burst {n:02d}")
            event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
        patches.append(patch)
    else:
        target = patches[(n // 2) % len(patches)]
        slug = "under-review" if target.state.slug == "new" else "new"
        patches[patches.index(target)] = patch_update(
            patch=target, actor=None, state=default_state(slug)
        )


def test_server_restart_during_a_burst_shows_every_change_exactly_once(topology, browser):
    from playwright.sync_api import expect

    project = frob_project()
    patches = [make_patch(project, name="[PATCH] before")]
    first_event = (Event.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    page = open_live(browser, f"{topology['b'].url}/project/frob/list/")
    status = page.locator("#live-status")

    for n in range(10):
        elsewhere(burst_step, project, patches, n)
    topology["b"].kill()  # every websocket on it drops mid-burst
    for n in range(10, 20):
        elsewhere(burst_step, project, patches, n)
    expect(status).not_to_have_attribute("data-live-state", "live", timeout=WAIT_MS)
    topology["b"].start()
    for n in range(20, 30):
        elsewhere(burst_step, project, patches, n)

    expected = list(
        Event.objects.filter(project=project, id__gte=first_event)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(expected) == 30
    wait_until(
        lambda: set(expected) <= set(page.evaluate("window.__applied")),
        timeout=WAIT_MS / 1000,
        what="every event of the burst on the page",
    )
    expect(status).to_have_attribute("data-live-state", "live")
    applied = [e for e in page.evaluate("window.__applied") if e in set(expected)]
    assert sorted(applied) == expected  # each event applied exactly once
    for patch in Patch.objects.filter(project=project).select_related("state"):
        row = page.locator(f"#patch-row-{patch.pk}")
        expect(row).to_have_count(1)
        expect(row.locator(".state-badge")).to_have_text(patch.state.name)
    expect(page.locator("[data-live-count='total']")).to_have_text(str(len(patches)))
    assert still_same_page(page)


def new_patch(project, name: str):
    with transaction.atomic():
        patch = make_patch(project, name=name)
        event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
    return patch


def test_new_patches_wait_behind_a_bar_while_the_user_is_triaging(topology, browser, maintainer):
    from playwright.sync_api import expect

    project = frob_project(maintainers=[maintainer])
    first = make_patch(project, name="[PATCH] being triaged")
    page = open_live(browser, f"{topology['a'].url}/project/frob/list/", user=maintainer)
    page.check(f"#patch-row-{first.pk} input[name=patch_id]")  # mid-triage: rows selected

    arrived = elsewhere(new_patch, project, "[PATCH] arrived meanwhile")
    bar = page.locator(".live-new-bar button")
    expect(bar).to_have_text("1 new patch — show it", timeout=WAIT_MS)
    # Not inserted above what the user is working on, but counted.
    expect(page.locator("#patch-list-body tr")).to_have_count(1)
    expect(page.locator("[data-live-count='total']")).to_have_text("2")

    bar.click()
    rows = page.locator("#patch-list-body tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_id(f"patch-row-{arrived.pk}")
    expect(page.locator(f"#patch-row-{first.pk} input[name=patch_id]")).to_be_checked()
    expect(page.locator(".live-new-bar")).to_be_hidden()
    assert still_same_page(page)


def test_a_row_swapped_live_keeps_its_checkbox_and_range_anchor(topology, browser, maintainer):
    from playwright.sync_api import expect

    project = frob_project(maintainers=[maintainer])
    patches = [new_patch(project, f"[PATCH] row {n}") for n in range(4)]  # events just before
    page = open_live(browser, f"{topology['a'].url}/project/frob/list/", user=maintainer)
    first, third = patches[-1], patches[-3]  # newest on top
    page.evaluate(
        "document.querySelectorAll('tr.patch-row').forEach((row) => { row.__before = true; })"
    )
    page.check(f"#patch-row-{first.pk} input[name=patch_id]")

    elsewhere(lambda: patch_update(patch=first, actor=None, state=default_state("under-review")))
    row = page.locator(f"#patch-row-{first.pk}")
    expect(row.locator(".state-badge")).to_have_text("Under Review", timeout=WAIT_MS)
    expect(row.locator("input[name=patch_id]")).to_be_checked()
    # Only the row that changed was swapped (and flashes).
    swapped = page.locator("tr.patch-row").evaluate_all(
        "rows => rows.filter(r => !r.__before).map(r => r.id)"
    )
    assert swapped == [f"patch-row-{first.pk}"]
    expect(page.locator("tr.changed")).to_have_count(1)

    page.click(f"#patch-row-{third.pk} input[name=patch_id]", modifiers=["Shift"])
    expect(page.locator("#selected-count")).to_have_text("3 selected")
    assert still_same_page(page)


def test_a_row_leaving_the_filters_is_marked_and_no_longer_counted(topology, browser, maintainer):
    from playwright.sync_api import expect

    project = frob_project(maintainers=[maintainer])
    patches = [make_patch(project, name=f"[PATCH] needs action {n}") for n in range(3)]
    page = open_live(browser, f"{topology['b'].url}/project/frob/list/")
    summary = page.locator(".list-summary")
    expect(summary).to_contain_text("Patches 1–3 of 3")

    arrived = elsewhere(new_patch, project, "[PATCH] arrived")
    expect(page.locator(f"#patch-row-{arrived.pk}")).to_have_count(1, timeout=WAIT_MS)
    expect(summary).to_contain_text("Patches 1–4 of 4")

    elsewhere(lambda: patch_update(patch=patches[0], actor=None, state=default_state("accepted")))
    row = page.locator(f"#patch-row-{patches[0].pk}")
    expect(row).to_have_class(re.compile(r"\blive-nomatch\b"), timeout=WAIT_MS)
    # Four rows shown, three still match: the count says so, never "1–4 of 3".
    expect(summary).to_contain_text("Patches 1–3 of 3")
    expect(summary.locator("[data-live-hide-zero]")).to_have_text(re.compile(r"1 leaving"))
    assert still_same_page(page)
