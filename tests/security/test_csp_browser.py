"""Every kind of page works under the Content-Security-Policy, in a real browser.

The policy (config/middleware.py) allows no inline script or style, so a script
injected into a page would not run; these tests load every page kind, as
anonymous, maintainer and admin, with htmx swaps and the live websocket, and
fail on any CSP violation or script error the browser reports.
"""

from __future__ import annotations

import pytest

from apps.mail.models import IncomingMail
from apps.webhooks.models import Webhook
from tests.browsers import DESKTOP, browser_context, needs_chromium
from tests.factories import (
    make_bundle,
    make_check,
    make_cover,
    make_cover_comment,
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

# Registered before any page script: the browser fires this for every refused resource.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " +
                           (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture
def site():
    maintainer = make_user("maintainer")
    admin = make_user("admin", is_superuser=True, is_staff=True)
    project = make_project(
        "demo",
        name="Demo",
        maintainers=[maintainer],
        web_url="https://example.org/",
        list_archive_url_format="https://lore.example.org/r/{}",
    )
    alice = make_person("alice@example.org", name="Alice", user=maintainer)
    cover = make_cover(project, submitter=alice)
    series = make_series(project, submitter=alice, cover=cover)
    make_cover_comment(cover)
    patch = make_patch(project, submitter=alice, series=series, delegate=maintainer)
    make_patch(project, submitter=alice, series=series)
    make_patch_comment(patch)
    make_check(patch, maintainer, target_url="https://ci.example.org/1")
    bundle = make_bundle(maintainer, [patch], name="mine", public=True)
    webhook = Webhook.objects.create(owner=maintainer, url="https://hooks.example.org/x")
    return {
        "maintainer": maintainer,
        "admin": admin,
        "project": project,
        "series": series,
        "cover": cover,
        "patch": patch,
        "bundle": bundle,
        "webhook": webhook,
        "mail": IncomingMail.objects.create(raw=b"From: a@example.org\n\nA raw mail.\n"),
    }


def _page(browser, server, user=None):
    context = browser_context(browser, server, user, viewport=DESKTOP)
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.set_default_timeout(15000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "404 (Not Found)" not in msg.text
            else None
        ),
    )
    page.problems = problems
    return page


def _visit(page, server, path: str) -> None:
    # (Not a 404: the test server runs with DEBUG, whose error pages are Django's own.)
    response = page.goto(server.url + path)
    assert response.status == 200, (path, response.status)
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "object-src 'none'" in policy, path
    assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy, path
    assert "camera=()" in response.headers.get("permissions-policy", ""), path
    page.wait_for_load_state("load")
    _assert_clean(page, path)


def _assert_clean(page, where: str) -> None:
    violations = page.evaluate("window.__violations || []")
    assert not violations, (where, violations)
    assert not page.problems, (where, page.problems)


def _paths(site) -> dict[str, list[str]]:
    project, patch, cover = site["project"], site["patch"], site["cover"]
    webhook, bundle = site["webhook"], site["bundle"]
    patch_page = f"/project/demo/patch/{patch.msgid.strip('<>')}/"
    public = [
        "/",
        f"/project/{project.linkname}/",
        "/project/demo/list/",
        "/project/demo/list/?state=*&archive=both&order=name",
        patch_page,
        f"/project/demo/cover/{cover.msgid.strip('<>')}/",
        f"/series/{site['series'].pk}/",
        "/project/demo/series/",
        f"/bundle/{bundle.owner.username}/{bundle.name}/",
        "/about/",
        "/pwclient/",
        "/user/login/",
        "/register/",
        "/user/password-reset/",
        "/api/docs",
    ]
    maintainer = [
        patch_page,
        "/project/demo/list/",
        "/user/",
        "/user/todo/",
        "/user/todo/demo/",
        "/user/bundles/",
        "/user/webhooks/",
        "/user/webhooks/add/",
        f"/user/webhooks/{webhook.pk}/",
        f"/user/webhooks/{webhook.pk}/deliveries/",
        "/mail/settings/",
    ]
    admin = [
        "/admin/",
        "/admin/projects/project/",
        f"/admin/projects/project/{project.pk}/change/",
        "/admin/patches/patch/",
        f"/admin/patches/patch/{patch.pk}/change/",
        "/admin/projects/user/add/",
        f"/admin/mail/incomingmail/{site['mail'].pk}/change/",
    ]
    return {"anonymous": public, "maintainer": maintainer, "admin": admin}


def test_every_page_kind_runs_under_the_policy(server, browser, site):
    for who, paths in _paths(site).items():
        page = _page(browser, server, None if who == "anonymous" else site[who])
        for path in paths:
            _visit(page, server, path)
        page.context.close()


def test_htmx_and_the_live_socket_work_under_the_policy(server, browser, site):
    page = _page(browser, server, site["maintainer"])
    _visit(page, server, "/project/demo/list/")
    page.wait_for_selector("[data-live-state='live']")  # the websocket connected
    # An htmx swap: sorting the list replaces the table without a page load.
    page.evaluate("window.__sameDocument = true")
    page.locator("#patch-table thead").get_by_role("link", name="Patch").click()
    page.wait_for_url("**order=name*")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__sameDocument") is True
    _assert_clean(page, "list after an htmx swap")

    _visit(page, server, f"/project/demo/patch/{site['patch'].msgid.strip('<>')}/")
    page.wait_for_selector("[data-live-state='live']")
    _assert_clean(page, "patch page, live")


def test_an_injected_inline_script_is_refused(server, browser, site):
    """The policy is really enforced: an inline script added to a page does not run."""
    page = _page(browser, server)
    _visit(page, server, "/")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__ran = true';
                   document.body.appendChild(s); }"""
    )
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert "script-src" in page.evaluate("window.__violations[0]")
