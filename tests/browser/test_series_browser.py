"""In a real browser: a maintainer sets the state and delegate of a whole series at once;
the series list shows series arriving by mail without reload."""

from __future__ import annotations

import datetime as dt
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

from apps.events.models import Event
from apps.patches.models import Patch
from apps.series.models import Series
from tests.browsers import chromium, needs_chromium, new_page
from tests.factories import make_patch, make_person, make_project, make_series
from tests.servers import Daphne, process_env

MAIL = Path(__file__).resolve().parents[1] / "data" / "mail" / "git" / "v1"
MAIL_TOKEN = "series-list-test-token"
WAIT_MS = 20_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def server(django_db_setup, tmp_path):
    server = Daphne(process_env(MAIL_INTAKE_TOKEN=MAIL_TOKEN), tmp_path / "daphne.log")
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def browser_open():
    with chromium() as browser:
        try:
            yield browser
        finally:
            # Those opened while Playwright's loop ran (else PostgreSQL's test database
            # cannot be dropped at the end).
            connections.close_all()


def test_maintainer_triages_a_whole_series_from_the_series_list(server, project, maintainer):
    ada = make_person("ada@example.org", name="Ada Lovelace")
    target = make_series(project, submitter=ada, name="Fix the frobnicator", total=3)
    for n in (1, 2, 3):
        make_patch(project, series=target, number=n, submitter=ada, name=f"[{n}/3] frob {n}")
    other = make_series(project, name="Tidy the docs")
    untouched = make_patch(project, series=other, number=1, name="[1/1] docs")

    with browser_open() as browser:
        page = new_page(browser, server, maintainer)
        page.goto(f"{server.url}/project/{project.linkname}/")
        page.get_by_role("link", name="Series", exact=True).click()
        row = page.locator(f"#series-row-{target.pk}")
        assert "3/3" in row.inner_text()
        row.get_by_label("State for every patch").select_option("accepted")
        row.get_by_label("Delegate every patch").select_option(maintainer.username)
        row.get_by_role("button", name="Apply to series").click()
        page.wait_for_selector("text=Updated 3 patches")
        assert "3 Accepted" in page.locator(f"#series-row-{target.pk} td.states").inner_text()
        assert "1 New" in page.locator(f"#series-row-{other.pk} td.states").inner_text()

    patches = list(Patch.objects.filter(series=target).select_related("state"))
    assert {(p.state.slug, p.delegate_id) for p in patches} == {("accepted", maintainer.pk)}
    # One ordinary state change and one delegation per patch, by the maintainer.
    for category in (Event.PATCH_STATE_CHANGED, Event.PATCH_DELEGATED):
        events = Event.objects.filter(category=category, patch__series=target)
        assert sorted(e.patch_id for e in events) == sorted(p.pk for p in patches)
        assert {e.actor_id for e in events} == {maintainer.pk}
    untouched.refresh_from_db()
    assert untouched.state.slug == "new" and untouched.delegate_id is None


def post_mail(server, raw: bytes) -> None:
    """Deliver a mail as a mail service would: POST /mail/ to the server (ingested there)."""
    request = urllib.request.Request(
        f"{server.url}/mail/",
        data=raw,
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {MAIL_TOKEN}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 202


def test_a_series_arriving_by_mail_appears_on_the_open_series_list(server, maintainer):
    from playwright.sync_api import expect

    project = make_project(
        "frob",
        listid="frob.lists.example.org",
        listemail="frob@lists.example.org",
        maintainers=[maintainer],
    )
    older = make_series(project, name="Tidy the docs", date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    make_patch(project, series=older, number=1, name="[1/1] docs")
    cover, first, *_ = sorted(MAIL.glob("*.eml"))

    with browser_open() as browser:
        page = new_page(browser, server, maintainer)
        page.goto(f"{server.url}/project/frob/series/")
        page.evaluate("window.__loaded_once = true")  # gone if the page ever reloads
        expect(page.locator("[data-live-state='live']")).to_have_count(1, timeout=WAIT_MS)

        post_mail(server, cover.read_bytes())
        post_mail(server, first.read_bytes())

        series = Series.objects.get(project=project, cover__isnull=False)
        row = page.locator(f"#series-row-{series.pk}")
        expect(row).to_contain_text("Fix the frobnicator and tidy the docs", timeout=WAIT_MS)
        expect(row.locator("td.progress")).to_have_text("1/3", timeout=WAIT_MS)
        expect(row.locator("td.states")).to_have_text("1 New", timeout=WAIT_MS)
        # On top of the newest-first list, without a reload.
        rows = page.locator("#series-list-body > tr").evaluate_all("rows => rows.map(r => r.id)")
        assert rows == [f"series-row-{series.pk}", f"series-row-{older.pk}"]
        assert page.evaluate("window.__loaded_once === true")

        # The row came for a maintainer: its series-wide form works as it came.
        row.get_by_label("State for every patch").select_option("accepted")
        row.get_by_role("button", name="Apply to series").click()
        page.wait_for_selector("text=Updated 1 patches")

    assert list(Patch.objects.filter(series=series).values_list("state__slug", flat=True)) == [
        "accepted"
    ]
