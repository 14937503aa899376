"""Every link the REST API and webhooks hand out leads to the object that gave it.

For each version (1.0 … 1.4 and the unversioned latest) the walk starts at the
API index and follows every URL-valued field of every response (``url``,
``web_url``, ``mbox``, ``comments``, ``checks``, ``series``, ``patches``,
``cover_letter``, ``related``, ``dependencies``, event payloads, webhook
``deliveries`` …) and every ``Link`` header, on a site built from real mail
(tests/linked_site.py). Each link must answer 200 with the object that linked
to it: the same ``url`` and ``id`` and the same values for the fields both
show, the reverse side of a relation, a mbox holding that object's mails, the
HTML page of that object. Every response is validated against its version's
OpenAPI schema (webhook endpoints against docs/openapi-webhooks.yaml), and the
walk must reach every GET operation its version's schema lists.
"""

from __future__ import annotations

import html
import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.test import Client

from apps.checks.models import Check
from apps.patches import links
from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.series.models import Series
from apps.web.downloads.views import MBOX_TYPE
from apps.webhooks.delivery import delivery_body
from apps.webhooks.models import Delivery
from tests.api import schema
from tests.api.client import ApiClient
from tests.linked_site import SITE_URL, linked_site
from tests.webhooks.schema import validate_event, validate_response

pytestmark = pytest.mark.django_db

API_PATH = re.compile(r"^/api/(?:(\d\.\d)/)?([a-z-]+)/(\d+)/(?:([a-z-]+)/(?:(\d+)/)?)?$")


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    with linked_site(django_db_blocker) as built:
        yield built


# --- collecting links -------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    url: str
    path: tuple[str, ...]  # keys from the response's root to the field holding the URL
    owners: tuple[dict, ...]  # the objects along that path, the one holding the field last
    source: str

    @property
    def field(self) -> str:
        return self.path[-1]

    @property
    def owner(self) -> dict:
        return self.owners[-1]

    def parent(self) -> tuple[str, dict] | None:
        """The key and object that embed the owner (``related`` and the patch), if any."""
        if len(self.path) < 2 or len(self.owners) < 2:
            return None
        return self.path[-2], self.owners[-2]

    def __str__(self) -> str:
        return f"{'.'.join(self.path)} = {self.url} (in {self.source})"


def collect(value: Any, source: str, path=(), owners=()) -> Iterator[Link]:
    """Every URL of this site in a JSON document, with where it was found."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from collect(item, source, (*path, key), (*owners, value))
    elif isinstance(value, list):
        for item in value:
            yield from collect(item, source, path, owners)
    elif isinstance(value, str) and value.startswith(SITE_URL + "/"):
        yield Link(value, path, owners, source)
    elif isinstance(value, str):
        assert not value.startswith("/api/"), f"relative API link {value} in {source}"


def header_links(response, source: str) -> Iterator[Link]:
    for entry in filter(None, response.headers.get("Link", "").split(", ")):
        url, rel = entry.split("; ")
        yield Link(url[1:-1], ("Link", rel[len('rel="') : -1]), (), source)


def api_parts(url: str) -> tuple[str, int, str | None, int | None]:
    """(collection, id, sub-collection, sub-id) of an API object URL."""
    match = API_PATH.match(urlsplit(url).path)
    assert match, f"not an API object URL: {url}"
    sub_id = match.group(5)
    return match.group(2), int(match.group(3)), match.group(4), int(sub_id) if sub_id else None


def with_query(url: str, **params) -> str:
    parts = urlsplit(url)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    query.update({k: str(v) for k, v in params.items() if v is not None})
    for key in [k for k, v in params.items() if v is None]:
        query.pop(key, None)
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- fetching ---------------------------------------------------------------------------


@dataclass
class Page:
    status: int
    content_type: str
    body: bytes
    location: str  # the path (and fragment) a redirect led to, or ''

    @property
    def text(self) -> str:
        return self.body.decode()


class Walker:
    """Fetches each URL once and checks every link to it against the object holding it."""

    def __init__(self, site, version: str | None, *, anonymous: bool = False):
        self.site = site
        self.version = version
        self.anonymous = anonymous
        self.prefix = f"{SITE_URL}/api/{version}/" if version else f"{SITE_URL}/api/"
        self.api = ApiClient(version)
        self.web = Client()
        if not anonymous:
            self.api.headers["HTTP_AUTHORIZATION"] = f"Token {site.token}"
            self.web.force_login(site.maintainer)
        self.responses: dict[str, Any] = {}
        self.pages: dict[str, Page] = {}
        self.operations: set[str] = set()

    # fetching

    def get_api(self, url: str):
        if url not in self.responses:
            path = urlsplit(url).path
            if "/webhooks/" in path:
                response = self.api.get(url, validate=False)
                validate_response(
                    webhook_template(path), "get", response.status_code, response.data
                )
                self.operations.add(webhook_template(path))
            else:
                response = self.api.get(url)
                self.operations.add(schema.find_operation(path, "get").template)
            self.responses[url] = response
        return self.responses[url]

    def get_page(self, url: str) -> Page:
        """A site URL, following redirects; ``location`` keeps the fragment a redirect gave."""
        if url not in self.pages:
            path, location = urlsplit(url).path, ""
            query = urlsplit(url).query
            for _ in range(5):
                response = self.web.get(path, QUERY_STRING=query)
                if response.status_code not in (301, 302):
                    break
                location = response["Location"]
                path, query = urlsplit(location).path, urlsplit(location).query
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            self.pages[url] = Page(
                response.status_code, response.get("Content-Type", ""), content, location
            )
        return self.pages[url]

    # walking

    def walk(self, start: list[Link]) -> None:
        queue = deque(start)
        expanded: set[str] = set()
        while queue:
            link = queue.popleft()
            self.check(link)
            if link.url in expanded or not self.is_api(link.url):
                continue
            expanded.add(link.url)
            response = self.get_api(link.url)
            queue.extend(collect(response.data, link.url))
            queue.extend(header_links(response, link.url))
            queue.extend(unlinked_comments(response.data, link.url))

    def start_links(self) -> list[Link]:
        index = self.get_api(self.prefix)
        start = [Link(self.prefix, ("index",), (), "start")]
        for name, url in index.data.items():
            # A short page too, so every list shows its Link header.
            start.append(Link(with_query(url, per_page=2), (name,), (index.data,), self.prefix))
        if self.version in (None, schema.LATEST) and not self.anonymous:
            webhooks = self.prefix + "webhooks/"
            start.append(Link(webhooks, ("webhooks",), ({"webhooks": webhooks},), "start"))
        return start

    def login_needed(self, path: str) -> bool:
        """People and users are shown to logged-in callers only (403 otherwise, as documented)."""
        return self.anonymous and re.search(r"/api/(\d\.\d/)?(people|users)/", path) is not None

    def is_api(self, url: str) -> bool:
        return urlsplit(url).path.startswith("/api/")

    # checking

    def check(self, link: Link) -> None:
        if self.is_api(link.url):
            assert link.url.startswith(self.prefix), f"another version's link: {link}"
            path = urlsplit(link.url).path
            endpoint = "/webhooks/" in path or schema.find_operation(path, "get") is not None
            assert endpoint, f"no such endpoint in this version: {link}"
            response = self.get_api(link.url)
            if response.status_code == 403 and self.login_needed(path):
                return
            assert response.status_code == 200, f"{response.status_code}: {link}"
            check_api_link(self, link, response)
        else:
            page = self.get_page(link.url)
            assert page.status == 200, f"{page.status}: {link}"
            check_site_link(self, link, page)


def unlinked_comments(body: Any, source: str) -> Iterator[Link]:
    """1.0 serves a patch's and a cover's comments but has no field linking to them yet."""
    if isinstance(body, dict) and "url" in body and "comments" not in body:
        kind, _, sub, _ = api_parts(body["url"])
        if kind in ("patches", "covers") and sub is None:
            yield Link(body["url"] + "comments/", ("comments",), (body,), source)


def webhook_template(path: str) -> str:
    inner = re.sub(r"^/api/(?:\d\.\d/)?", "", path)
    inner = re.sub(r"^webhooks/\d+/", "webhooks/{id}/", inner)
    inner = re.sub(r"deliveries/\d+/", "deliveries/{delivery_id}/", inner)
    return "/api/1.4/" + inner


# --- what each kind of link must lead to -----------------------------------------------

CHILDREN = {"comments", "checks", "deliveries"}
SERIES_LINKS = {"dependencies", "dependents", "previous_revision", "next_revisions"}


def check_api_link(walker: Walker, link: Link, response) -> None:
    body = response.data
    if link.path[0] == "Link":
        check_page_link(walker, link, response)
    elif link.source in ("start", walker.prefix):
        assert isinstance(body, list if link.field != "index" else dict), link
    elif link.field == "url":
        check_same_object(link, body)
        check_reverse_side(link, body)
    elif link.field in CHILDREN:
        check_children(link, response)
    elif link.field in SERIES_LINKS:
        check_series_relation(link, body)
    else:
        raise AssertionError(f"no rule for an API link in {link.field!r}: {link}")


def check_same_object(link: Link, body: Any) -> None:
    """The body is the object that linked to it: same url, id, and shared fields."""
    assert isinstance(body, dict), link
    assert body["url"] == link.url, f"fetched {body['url']}: {link}"
    for key in link.owner.keys() & body.keys():
        if not isinstance(body[key], dict | list):
            assert link.owner[key] == body[key], f"{key}: {link.owner[key]!r} != {body[key]!r}"


def _urls(items) -> list[str]:
    return [item["url"] for item in items or []]


def check_reverse_side(link: Link, body: dict) -> None:
    """An embedded object points back at what embeds it (series ↔ patches, related …)."""
    parent = link.parent()
    if parent is None or "url" not in parent[1]:
        return
    key, outer = parent
    outer_kind = api_parts(outer["url"])[0]
    if key == "related":
        assert outer["url"] in _urls(body["related"]), link
    elif key == "series" and outer_kind == "patches":
        assert outer["url"] in _urls(body["patches"]), link
    elif key == "series" and outer_kind == "covers":
        assert body["cover_letter"]["url"] == outer["url"], link
    elif key in ("patches", "cover_letter") and outer_kind == "series":
        assert outer["url"] in _urls(body["series"]), link
    elif key == "patches" and outer_kind == "bundles":
        assert api_parts(link.url)[1] in bundle_patch_ids(api_parts(outer["url"])[1]), link


def bundle_patch_ids(bundle_id: int) -> set[int]:
    return set(Bundle.objects.get(pk=bundle_id).patches.values_list("pk", flat=True))


def expected_children(owner_url: str, field: str) -> set[int]:
    kind, pk, _, _ = api_parts(owner_url)
    if field == "checks":
        return set(Check.objects.filter(patch_id=pk).values_list("pk", flat=True))
    if field == "deliveries":
        return set(Delivery.objects.filter(webhook_id=pk).values_list("pk", flat=True))
    model = PatchComment if kind == "patches" else CoverComment
    parent = "patch_id" if kind == "patches" else "cover_id"
    return set(model.objects.filter(**{parent: pk}).values_list("pk", flat=True))


def check_children(link: Link, response) -> None:
    """A list of the owner's comments, checks or deliveries: all of them, each under the link."""
    body = response.data
    assert isinstance(body, list), link
    ids = {item["id"] for item in body}
    expected = expected_children(link.owner["url"], link.field)
    if "next" in response.headers.get("Link", ""):
        assert ids < expected, link
    else:
        assert ids == expected, f"{sorted(ids)} != {sorted(expected)}: {link}"
    for item in body:
        if "url" in item:
            assert item["url"].startswith(link.url), (item["url"], link)


def check_series_relation(link: Link, body: dict) -> None:
    """A series named by URL is a series whose opposite field names the owner."""
    assert body["url"] == link.url, link
    owner_url = link.owner["url"]
    if api_parts(owner_url)[0] == "patches":  # a patch's next_revisions: of its series
        owner_url = link.owner["series"][0]["url"]
    opposite = {
        "dependencies": lambda: owner_url in body["dependents"],
        "dependents": lambda: owner_url in body["dependencies"],
        "previous_revision": lambda: owner_url in body["next_revisions"],
        "next_revisions": lambda: body["previous_revision"] == owner_url,
    }
    assert opposite[link.field](), f"{link.field} not mirrored: {link}"


def check_page_link(walker: Walker, link: Link, response) -> None:
    """A Link header's page holds the items a full listing has at that place."""
    per_page = int(parse_qs(urlsplit(link.url).query).get("per_page", ["30"])[0])
    page = int(parse_qs(urlsplit(link.url).query).get("page", ["1"])[0])
    whole = walker.get_api(with_query(link.url, per_page=100, page=None))
    assert "next" not in whole.link, "the site outgrew one page of 100"
    ids = [item["id"] for item in whole.data]
    shown = [item["id"] for item in response.data]
    assert shown == ids[(page - 1) * per_page : page * per_page], link
    if link.field == "last":
        assert page == max(1, -(-len(ids) // per_page)), link
    if link.field == "first":
        assert page == 1, link


def check_site_link(walker: Walker, link: Link, page: Page) -> None:
    if link.field == "mbox":
        check_mbox(link, page)
    elif link.field == "web_url":
        check_web_page(link, page)
    elif link.field == "range_diff":
        check_range_diff_page(link, page)
    else:
        raise AssertionError(f"no rule for a site link in {link.field!r}: {link}")


def mbox_msgids(owner_url: str) -> list[str]:
    kind, pk, _, _ = api_parts(owner_url)
    if kind == "series":
        return list(Series.objects.get(pk=pk).patches.values_list("msgid", flat=True))
    if kind == "bundles":
        return list(Bundle.objects.get(pk=pk).patches.values_list("msgid", flat=True))
    model = Patch if kind == "patches" else Cover
    return [model.objects.get(pk=pk).msgid]


def check_mbox(link: Link, page: Page) -> None:
    assert page.content_type == MBOX_TYPE, (page.content_type, link)
    text = page.body.decode("utf-8", "replace")
    assert text.startswith("From "), link
    headers = text.lower()
    msgids = mbox_msgids(link.owner["url"])
    assert msgids, link
    for msgid in msgids:
        assert f"message-id: {msgid.lower()}" in headers, f"{msgid} not in the mbox: {link}"


TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def check_web_page(link: Link, page: Page) -> None:
    """The HTML page of the object: its title names it; a comment's link lands on its anchor."""
    assert page.content_type.startswith("text/html"), link
    path = urlsplit(link.url).path
    if path.startswith("/comment/"):
        check_comment_page(link, page)
        return
    assert not page.location, f"{link} redirected to {page.location}"
    title = html.unescape(TITLE.search(page.text).group(1))
    assert title.startswith(f"{link.owner['name']} · ") or title == (
        f"Bundle {link.owner['name']} · Patchwork"
    ), (title, link)


def check_range_diff_page(link: Link, page: Page) -> None:
    """A series' range_diff (1.4) is the page comparing that series with its previous revision."""
    assert page.content_type.startswith("text/html"), link
    assert not page.location, f"{link} redirected to {page.location}"
    title = html.unescape(TITLE.search(page.text).group(1))
    assert title.startswith(f"Range-diff · {link.owner['name']} · "), (title, link)


def check_comment_page(link: Link, page: Page) -> None:
    comment_id = link.owner["id"]
    if urlsplit(link.url).path.startswith("/comment/cover/"):
        comment = CoverComment.objects.select_related("cover__project").get(pk=comment_id)
        parent = links.cover_path(comment.cover.project.linkname, comment.cover.msgid)
    else:
        comment = PatchComment.objects.select_related("patch__project").get(pk=comment_id)
        parent = links.patch_path(comment.patch.project.linkname, comment.patch.msgid)
    assert page.location == f"{parent}#comment-{comment_id}", (page.location, link)
    assert f'id="comment-{comment_id}"' in page.text, link


# --- the tests --------------------------------------------------------------------------


@pytest.mark.parametrize("version", [*schema.VERSIONS, None])
def test_every_api_link_leads_to_its_object(site, version):
    walker = Walker(site, version)
    walker.walk(walker.start_links())
    spec_version = version or schema.LATEST
    gets = {
        template
        for template, item in schema.load_spec(spec_version)["paths"].items()
        if "get" in item
    }
    missed = gets - walker.operations
    assert not missed, f"the walk never reached {sorted(missed)}"
    if version in (None, schema.LATEST):
        assert {t for t in walker.operations if "/webhooks/" in t} == {
            "/api/1.4/webhooks/",
            "/api/1.4/webhooks/{id}/",
            "/api/1.4/webhooks/{id}/deliveries/",
            "/api/1.4/webhooks/{id}/deliveries/{delivery_id}/",
        }
    fetched = " ".join(walker.responses)
    assert f"/bundles/{site.private_bundle.pk}/" in fetched
    assert f"/bundles/{site.strangers_bundle.pk}/" not in fetched


def test_every_api_link_a_visitor_sees_leads_to_its_object(site):
    """Anonymously: the same, but people and users answer 403 and private bundles are unseen."""
    walker = Walker(site, schema.LATEST, anonymous=True)
    walker.walk(walker.start_links())
    fetched = " ".join(walker.responses)
    assert f"/bundles/{site.public_bundle.pk}/" in fetched
    assert f"/bundles/{site.private_bundle.pk}/" not in fetched
    assert walker.responses[walker.prefix + "people/?per_page=2"].status_code == 403


def test_every_webhook_payload_link_leads_to_its_object(site):
    """Bodies built by the code that sends them, one per category, links under /api/."""
    walker = Walker(site, None)
    deliveries = Delivery.objects.filter(webhook=site.webhook).order_by("id")
    by_category = {d.category: d for d in reversed(deliveries)}
    assert len(by_category) == 12, sorted(by_category)  # 11 event categories and the ping
    for category, delivery in sorted(by_category.items()):
        body = json.loads(delivery_body(delivery))
        assert body["category"] == category
        if category != "ping":
            validate_event(body)
        found = list(collect(body, f"webhook {category}"))
        assert found, category
        for link in found:
            walker.check(link)


def test_private_objects_answer_404_to_others(site):
    """The only links that may not answer: another user's private bundle, to anyone else."""
    bundle = site.private_bundle
    for version in [*schema.VERSIONS, None]:
        response = ApiClient(version).get(f"bundles/{bundle.pk}/")
        assert response.status_code == 404, version
    owner = bundle.owner.username
    for path in (links.bundle_path(owner, bundle.name), links.bundle_mbox_path(owner, bundle.name)):
        assert Client().get(path).status_code == 404, path
