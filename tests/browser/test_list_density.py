"""The patch list as a maintainer of a busy list reads it, in Chromium: one line per
patch on a wide screen, at least 25 rows in a 1400x900 window, still readable on a
phone; the series list styled the same way.

With UPDATE_SCREENSHOTS=1 the window-size screenshots also go to docs/screenshots/
(the ones committed there were made so).
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.patches.models import PatchTag
from apps.projects.models import Tag
from tests import browsers
from tests.browsers import PHONE, needs_chromium, new_page
from tests.factories import (
    default_state,
    make_check,
    make_patch,
    make_person,
    make_project,
    make_series,
    make_user,
)
from tests.servers import ROOT

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]

WIDE = {"width": 1400, "height": 900}
WIDER = {"width": 1920, "height": 1080}
DOCS = ROOT / "docs" / "screenshots"

# Subjects as they come to a kernel list: long, with prefixes, some longer than a line.
SUBJECTS = [
    "net: stmmac: dwmac-rk: fix the clock rate setting of the RGMII interface on RK3568 boards",
    "drm/i915/display: move the PSR2 selective fetch area calculation into its own helper",
    "mm/page_alloc: avoid a redundant zone lock round trip when draining the per-cpu lists",
    "arm64: dts: qcom: sm8550: add the missing interconnect paths for the display subsystem",
    "fs/ntfs3: check the attribute list length before walking it, a fuzzed image overruns",
    "selftests/bpf: cover the verifier's handling of spilled pointers in subprog calls",
]
PEOPLE = [
    ("Krzysztof Wojciechowski-Kaczmarczyk", "krzysztof.wojciechowski@kernel.example.org"),
    ("Ada Lovelace", "ada@example.org"),
    ("Jonathan Cameron-Smythe", "jic23@example.org"),
    ("Li Wei", "li.wei@example.cn"),
]


@pytest.fixture
def busy():
    """A project with 60 patches in series of 6, from four people, half delegated."""
    maintainer = make_user("gregkh-like", first_name="Mae", last_name="Maintainer")
    project = make_project("netdev", name="Linux networking", maintainers=[maintainer])
    people = [make_person(email, name=name) for name, email in PEOPLE]
    acked = Tag.objects.filter(show_column=True).first()
    now = timezone.now()
    patches = []
    for s in range(10):
        person = people[s % len(people)]
        series = make_series(
            project,
            submitter=person,
            name=f"{SUBJECTS[s % len(SUBJECTS)].split(':')[0]}: a longer series name, v{s % 3 + 1}",
            total=6,
            version=s % 3 + 1,
        )
        for n, subject in enumerate(SUBJECTS, start=1):
            patch = make_patch(
                project,
                name=f"[PATCH v{s % 3 + 1} {n}/6] {subject}",
                submitter=person,
                series=series,
                number=n,
                date=now - timedelta(minutes=10 * (s * 6 + n)),
                delegate=maintainer if s % 2 else None,
                state=default_state("under-review" if n % 3 == 0 else "new"),
            )
            if acked is not None and n % 2:
                PatchTag.objects.create(patch=patch, tag=acked, count=n % 3 + 1)
            if n == 2:
                make_check(patch, maintainer, context="build")
            patches.append(patch)
    return {"project": project, "maintainer": maintainer, "patches": patches}


def shoot(page, name: str) -> None:
    """The whole page into test-artifacts, checking for sideways overflow."""
    browsers.shoot(page, "ui", name)


def shoot_window(page, name: str) -> None:
    """What the window shows, as a person sees it (no scrolling), once the page is live."""
    page.wait_for_selector("[data-live-state='live']", timeout=15000)
    path = browsers.ARTIFACTS / "ui" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), animations="disabled")
    if os.environ.get("UPDATE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS / path.name)


# The rows wholly in view: below the table's header, above the bulk bar (it sticks
# to the bottom of the window) and the window's bottom edge.
ROWS_IN_VIEW = """() => {
  const head = document.querySelector('#patch-table thead').getBoundingClientRect();
  const bar = document.querySelector('#bulk-bar');
  const bottom = Math.min(window.innerHeight, bar ? bar.getBoundingClientRect().top : Infinity);
  return [...document.querySelectorAll('#patch-table tbody tr')].filter((row) => {
    const r = row.getBoundingClientRect();
    return r.top >= head.bottom - 1 && r.bottom <= bottom + 1;
  }).length;
}"""

# Rows taller than one line of their name cell (one wrapped cell makes the row taller).
ROWS_WRAPPED = """() => [...document.querySelectorAll('#patch-table tbody tr')].filter((row) => {
  const name = row.querySelector('td.name');
  const line = parseFloat(getComputedStyle(name).lineHeight);
  return [...row.cells].some((cell) => {
    const s = getComputedStyle(cell);
    const inner = cell.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
    return inner > line * 1.5;
  });
}).length"""

# Cells whose text is cut: each must say it in full in a tooltip.
CUT_WITHOUT_TOOLTIP = """() => [...document.querySelectorAll(
  '#patch-table tbody td.name a, #patch-table tbody td.col-series a, ' +
  '#patch-table tbody td.col-submitter, #patch-table tbody td.col-delegate')].filter(
  (el) => el.scrollWidth > el.clientWidth + 1 && !el.title && !(el.closest('[title]'))
).length"""


def test_a_wide_window_shows_25_one_line_rows_and_the_filter_bar(server, browser, busy):
    page = new_page(browser, server, busy["maintainer"], WIDE)
    page.goto(f"{server.url}/project/netdev/list/")
    shoot_window(page, "patch-list-1400-window")
    assert page.locator("#filters").is_visible()
    assert page.evaluate(ROWS_IN_VIEW) >= 25
    assert page.evaluate(ROWS_WRAPPED) == 0
    assert page.evaluate(CUT_WITHOUT_TOOLTIP) == 0
    # The name takes the room: wider than series, submitter and delegate together.
    widths = page.evaluate(
        "() => Object.fromEntries(['name', 'col-series', 'col-submitter', 'col-delegate'].map("
        "(c) => [c, document.querySelector('#patch-table tbody td.' + c).offsetWidth]))"
    )
    assert widths["name"] > widths["col-series"] + widths["col-submitter"] + widths["col-delegate"]
    shoot(page, "patch-list-1400")
    assert page.js_errors == []


def test_a_1920_window_uses_its_width(server, browser, busy):
    page = new_page(browser, server, busy["maintainer"], WIDER)
    page.goto(f"{server.url}/project/netdev/list/")
    table = page.locator("#patch-table").bounding_box()
    assert table["width"] >= 1920 * 0.9
    assert page.evaluate(ROWS_WRAPPED) == 0
    shoot_window(page, "patch-list-1920-window")
    shoot(page, "patch-list-1920")


def test_on_a_phone_nothing_overflows_sideways(server, browser, busy):
    page = new_page(browser, server, busy["maintainer"], PHONE)
    page.goto(f"{server.url}/project/netdev/list/")
    shoot(page, "patch-list-phone")  # fails if the page is wider than the phone
    name = page.locator("#patch-table tbody td.name").first.bounding_box()
    assert name["x"] + name["width"] <= PHONE["width"]
    page.goto(f"{server.url}/project/netdev/series/")
    shoot(page, "series-list-phone")
    assert page.js_errors == []


def test_the_series_list_is_styled_like_the_patch_list(server, browser, busy):
    page = new_page(browser, server, busy["maintainer"], WIDE)
    page.goto(f"{server.url}/project/netdev/series/")
    table = page.locator("table.patches")
    assert table.count() == 1
    style = page.evaluate(
        "() => { const td = document.querySelector('table.patches tbody td');"
        " const s = getComputedStyle(td); return [s.borderBottomStyle, s.borderBottomWidth]; }"
    )
    assert style == ["solid", "1px"]
    # Dates never wrap; headers share the cells' alignment.
    assert page.evaluate(
        "() => [...document.querySelectorAll('table.patches tbody td.col-date')]"
        ".every((td) => getComputedStyle(td).whiteSpace === 'nowrap')"
    )
    assert page.evaluate(
        "() => { const t = document.querySelector('table.patches');"
        " return [...t.tHead.rows[0].cells].every((th, i) => th.getBoundingClientRect().left"
        " === t.tBodies[0].rows[0].cells[i].getBoundingClientRect().left); }"
    )
    # The series-wide action form: one bar of controls, like the bulk bar.
    action = page.locator("form.series-action").first
    assert action.evaluate("(f) => getComputedStyle(f).display") == "flex"
    shoot_window(page, "series-list-1400-window")
    shoot(page, "series-list-1400")
    assert page.js_errors == []


# A query a maintainer types: a state, a delegate, a sender, a path and a word (at 1400 px
# the search has a line of its own; at 1920 px it shares one with the menus).
REAL_QUERY = "state:new delegate:gregkh-like from:krzysztof path:drivers/net/ethernet stmmac"


@pytest.mark.parametrize("path,box", [("list", "#filter-q"), ("series", "#series-q")])
@pytest.mark.parametrize("window", [WIDE, WIDER], ids=["1400", "1920"])
def test_the_search_box_fits_a_real_query(server, browser, busy, path, box, window):
    page = new_page(browser, server, busy["maintainer"], window)
    page.goto(f"{server.url}/project/netdev/{path}/")
    search = page.locator(box)
    search.fill(REAL_QUERY)
    # All of it in view at once: nothing scrolled out of the box.
    fits = search.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert fits[0] <= fits[1], fits
    assert page.js_errors == []
