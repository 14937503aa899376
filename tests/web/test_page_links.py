"""Every internal link on every kind of page resolves: a walk of the site from ``/``.

On the site of tests/linked_site.py (real mail, comments, checks, series with
revisions and dependencies, public and private bundles, a webhook), a maintainer
and an anonymous visitor each start at ``/`` and follow every internal
``href``, ``src``, ``hx-get``, ``data-href`` and GET form ``action``: each must
answer 200, directly or through redirects; a ``#fragment`` must name an element
of the page it lands on. ``hx-post`` and POST form targets must be routes that
exist and are not answered 404 or 500. Up to ten pages of each kind are parsed
for further links (the query-string variants of a list are many), lists show a
few items a page so their pagination is walked, and the walk must reach every
kind of page the site has. A visitor sent to log in comes back to the same URL.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse

from apps.accounts.models import User
from apps.live.routing import websocket_urlpatterns
from apps.patches import links
from apps.patches.models import CoverComment, Patch, PatchComment
from apps.web.series import list as triage_views
from apps.webhooks import views as webhook_views
from tests.factories import make_patch, make_user
from tests.linked_site import ODD_MSGID, SITE_URL, linked_site

pytestmark = pytest.mark.django_db

PAGES_PER_KIND = 10  # pages of one kind (route name) parsed for further links
GET_ATTRIBUTES = ("href", "src", "hx-get", "data-href")


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    with linked_site(django_db_blocker) as built:
        yield built


# --- collecting links -------------------------------------------------------------------


@dataclass
class PageLinks:
    gets: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = PageLinks()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in ("id", "name"):
            if attributes.get(name) and (name == "id" or tag == "a"):
                self.found.ids.add(attributes[name])
        for name in GET_ATTRIBUTES:
            if attributes.get(name) is not None:
                self.found.gets.append(attributes[name])
        if attributes.get("hx-post"):
            self.found.posts.append(attributes["hx-post"])
        if tag == "form" and attributes.get("action") is not None:
            method = (attributes.get("method") or "get").lower()
            (self.found.posts if method == "post" else self.found.gets).append(attributes["action"])
        if attributes.get("ws-connect"):
            self.found.sockets.append(attributes["ws-connect"])


def page_links(html: str) -> PageLinks:
    parser = LinkParser()
    parser.feed(html)
    return parser.found


def internal(base: str, value: str) -> str | None:
    """The site-relative URL a link points at (fragment kept), or None if it leaves the site."""
    if value.startswith(("mailto:", "javascript:", "data:")):
        return None
    absolute = urljoin(SITE_URL + base, value)
    if not absolute.startswith(SITE_URL + "/"):
        return None
    return absolute[len(SITE_URL) :]


# --- walking ----------------------------------------------------------------------------


@dataclass
class Landing:
    status: int
    path: str  # where redirects led
    fragment: str  # the anchor the last redirect named, if any
    content_type: str
    text: str


class Crawler:
    def __init__(self, client: Client):
        self.client = client
        self.landings: dict[str, Landing] = {}
        self.parsed: set[str] = set()
        self.kinds: Counter[str] = Counter()
        self.posts: dict[str, str] = {}  # POST target -> a page that has it
        self.found: dict[str, PageLinks] = {}

    def links_of(self, url: str) -> PageLinks:
        if url not in self.found:
            self.found[url] = page_links(self.landings[url].text)
        return self.found[url]

    def fetch(self, url: str) -> Landing:
        """GET a site URL (no fragment), following redirects within the site."""
        if url not in self.landings:
            current = url
            for _ in range(5):
                parts = urlsplit(current)
                response = self.client.get(parts.path, QUERY_STRING=parts.query)
                if response.status_code not in (301, 302):
                    break
                current = internal(current, response["Location"]) or ""
                assert current, f"{url} redirects off the site: {response['Location']}"
            if response.streaming:
                body = b"".join(response.streaming_content)
            else:
                body = response.content
            self.landings[url] = Landing(
                response.status_code,
                urlsplit(current).path,
                urlsplit(current).fragment,
                response.get("Content-Type", ""),
                body.decode("utf-8", "replace"),
            )
        return self.landings[url]

    def crawl(self, start: str = "/") -> None:
        queue = deque([(start, "start")])
        while queue:
            target, source = queue.popleft()
            url, _, fragment = target.partition("#")
            landing = self.fetch(url)
            assert landing.status == 200, f"{landing.status}: {target} (linked from {source})"
            for anchor in filter(None, (fragment, landing.fragment)):
                assert anchor in self.links_of(url).ids, f"no #{anchor}: {target} ({source})"
            if url in self.parsed or not self.worth_parsing(landing):
                continue
            self.parsed.add(url)
            found = self.links_of(url)
            for value in found.gets:
                link = internal(url, value)
                if link is not None:
                    queue.append((link, url))
            for value in found.posts:
                link = internal(url, value)
                if link is not None:
                    self.posts.setdefault(link, url)
            for value in found.sockets:
                check_socket(value, url)

    def worth_parsing(self, landing: Landing) -> bool:
        if not landing.content_type.startswith("text/html"):
            return False
        kind = route_name(landing.path)
        if self.kinds[kind] >= PAGES_PER_KIND:
            return False
        self.kinds[kind] += 1
        return True

    def check_posts(self) -> None:
        """Form and hx-post targets are routes that exist; a GET on them is no 404 or 500."""
        for target, source in self.posts.items():
            path = urlsplit(target).path
            route_name(path)  # raises if no route
            status = self.client.get(path).status_code
            assert status in (200, 302, 405), f"{status} on GET {target} (posted from {source})"


def route_name(path: str) -> str:
    if path.startswith(settings.STATIC_URL):
        return "static"
    try:
        match = resolve(path)
    except Resolver404:
        raise AssertionError(f"no route for {path}") from None
    return match.url_name or match.view_name


def check_socket(value: str, source: str) -> None:
    path = urlsplit(value).path.lstrip("/")
    assert any(p.pattern.match(path) for p in websocket_urlpatterns), (value, source)


# Every kind of page a maintainer can reach by following links from the front page.
MAINTAINER_PAGES = {
    "project-list",
    "project-detail",
    "patch-list",
    "series-list",
    "patch-detail",
    "cover-detail",
    "series-detail",
    "bundle-detail",
    "user-bundles",
    "user-todo",
    "user-todo-project",
    "user-profile",
    "password_change",
    "mail-settings",
    "webhook-list",
    "webhook-create",
    "webhook-detail",
    "webhook-deliveries",
    "webhook-delivery",
    "about",
    "pwclient",
    "project-pwclientrc",
    "patch-mbox",
    "patch-raw",
    "cover-mbox",
    "series-mbox",
    "bundle-mbox",
    "autocomplete-person",
    "autocomplete-delegate",
}
ANONYMOUS_PAGES = {
    "project-list",
    "project-detail",
    "patch-list",
    "series-list",
    "patch-detail",
    "cover-detail",
    "series-detail",
    "login",
    "register",
    "about",
}


@pytest.fixture
def small_pages(site, settings, monkeypatch):
    """A few items a page, so every list shows its pagination links."""
    settings.DEFAULT_ITEMS_PER_PAGE = 3
    User.objects.filter(pk=site.maintainer.pk).update(items_per_page=3)
    monkeypatch.setattr(triage_views, "SERIES_PER_PAGE", 2)
    monkeypatch.setattr(webhook_views, "DELIVERIES_PER_PAGE", 10)


def test_every_link_a_maintainer_sees_resolves(site, small_pages):
    client = Client()
    client.force_login(site.maintainer)
    crawler = Crawler(client)
    crawler.crawl()
    crawler.check_posts()
    reached = {route_name(landing.path) for landing in crawler.landings.values()}
    assert MAINTAINER_PAGES <= reached, sorted(MAINTAINER_PAGES - reached)
    private = links.bundle_path(site.maintainer.username, site.private_bundle.name)
    assert private in crawler.landings
    assert not any(
        path.startswith(f"/bundle/{site.stranger.username}/") for path in crawler.landings
    )


def test_every_link_a_visitor_sees_resolves(site, small_pages):
    crawler = Crawler(Client())
    crawler.crawl()
    crawler.check_posts()
    reached = {route_name(landing.path) for landing in crawler.landings.values()}
    assert ANONYMOUS_PAGES <= reached, sorted(ANONYMOUS_PAGES - reached)
    private = links.bundle_path(site.maintainer.username, site.private_bundle.name)
    assert private not in crawler.landings


def test_comment_links_land_on_their_anchor(site):
    """/comment/<id>/ and /comment/cover/<id>/ (REST web_url) land on the comment's anchor."""
    crawler = Crawler(Client())
    for comment in PatchComment.objects.all():
        crawler.crawl(links.patch_comment_path(comment.pk))
        assert crawler.landings[links.patch_comment_path(comment.pk)].path == links.patch_path(
            comment.patch.project.linkname, comment.patch.msgid
        )
    for comment in CoverComment.objects.all():
        crawler.crawl(links.cover_comment_path(comment.pk))


def test_login_redirects_come_back_to_the_same_page(site):
    """A visitor's change sends them to log in and back to the page, whatever its URL holds."""
    odd = Patch.objects.get(msgid=ODD_MSGID)
    odd_page = links.patch_path(odd.project.linkname, odd.msgid)
    comment = PatchComment.objects.select_related("patch__project").first()
    commented = links.patch_path(comment.patch.project.linkname, comment.patch.msgid)
    listing = "/project/frob/list/?state=*&archive=both"
    cases = [
        (odd_page, {"state": "accepted"}, odd_page),
        (f"/comment/{comment.pk}/addressed/", {"addressed": "true"}, commented),
        ("/project/frob/list/bulk/", {"next": listing, "patch_id": [odd.pk]}, listing),
    ]
    for target, form, page in cases:
        response = Client().post(target, form)
        assert response.status_code == 302, target
        login = urlsplit(response["Location"])
        assert login.path == reverse("login"), response["Location"]
        assert QueryDict(login.query)["next"] == page, response["Location"]
        client = Client()
        credentials = {"username": site.maintainer.username, "password": "password"}
        landed = client.post(f"{login.path}?{login.query}", credentials)
        assert landed.status_code == 302 and landed["Location"] == page, target
        path, _, query = page.partition("?")
        assert client.get(path, QUERY_STRING=query).status_code == 200, page


def test_list_counts_are_bounded(client, project):
    for _ in range(3):
        make_patch(project)
    client.force_login(make_user("pager", items_per_page=2))  # a page 2 to count up to
    with CaptureQueriesContext(connection) as ctx:
        client.get("/project/demo/list/", {"page": 2})
    counts = [
        q["sql"]
        for q in ctx.captured_queries
        if "COUNT(" in q["sql"].upper() and "checks_check" not in q["sql"]  # not the rows' checks
    ]
    assert counts, "page 2 needs a count"
    for sql in counts:
        assert "LIMIT" in sql.upper(), sql
