"""In a real browser: a maintainer sets the state and delegate of a whole series at once."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from apps.events.models import Event
from apps.patches.models import Patch
from tests.browsers import DESKTOP, chromium, needs_chromium
from tests.factories import make_patch, make_person, make_series
from tests.servers import Daphne, process_env

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def server(django_db_setup, tmp_path):
    server = Daphne(process_env(), tmp_path / "daphne.log")
    try:
        yield server
    finally:
        server.stop()


def logged_in_page(browser, server, user):
    context = browser.new_context(viewport=DESKTOP)
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


def test_maintainer_triages_a_whole_series_from_the_series_list(server, project, maintainer):
    ada = make_person("ada@example.org", name="Ada Lovelace")
    target = make_series(project, submitter=ada, name="Fix the frobnicator", total=3)
    for n in (1, 2, 3):
        make_patch(project, series=target, number=n, submitter=ada, name=f"[{n}/3] frob {n}")
    other = make_series(project, name="Tidy the docs")
    untouched = make_patch(project, series=other, number=1, name="[1/1] docs")

    with chromium() as browser:
        page = logged_in_page(browser, server, maintainer)
        page.goto(f"{server.url}/project/{project.linkname}/")
        page.get_by_role("link", name="Series", exact=True).click()
        row = page.locator(f"#series-{target.pk}")
        assert "3/3" in row.inner_text()
        row.get_by_label("State for every patch").select_option("accepted")
        row.get_by_label("Delegate every patch").select_option(maintainer.username)
        row.get_by_role("button", name="Apply to series").click()
        page.wait_for_selector("text=Updated 3 patches")
        assert "3 Accepted" in page.locator(f"#series-{target.pk} td.states").inner_text()
        assert "1 New" in page.locator(f"#series-{other.pk} td.states").inner_text()

    patches = list(Patch.objects.filter(series=target).select_related("state"))
    assert {(p.state.slug, p.delegate_id) for p in patches} == {("accepted", maintainer.pk)}
    # One ordinary state change and one delegation per patch, by the maintainer.
    for category in (Event.PATCH_STATE_CHANGED, Event.PATCH_DELEGATED):
        events = Event.objects.filter(category=category, patch__series=target)
        assert sorted(e.patch_id for e in events) == sorted(p.pk for p in patches)
        assert {e.actor_id for e in events} == {maintainer.pk}
    untouched.refresh_from_db()
    assert untouched.state.slug == "new" and untouched.delegate_id is None
