"""The patch page: facts, series, checks, comments, diff, the maintainer form, permalinks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.events.models import Event
from apps.patches.models import PatchRelation, PatchTag
from apps.projects.models import Tag
from tests.factories import (
    default_state,
    make_check,
    make_cover,
    make_patch,
    make_patch_comment,
    make_series,
    make_user,
)
from tests.web.conftest import htmx_headers

pytestmark = pytest.mark.django_db


def url(patch) -> str:
    return reverse("patch-detail", args=[patch.project.linkname, patch.url_msgid])


def test_message_id_with_slash_finds_the_patch(client, project):
    patch = make_patch(project, msgid="<a/b/c@example.com>")
    assert url(patch) == "/project/demo/patch/a/b/c@example.com/"
    response = client.get(url(patch))
    assert response.status_code == 200
    assert response.context["patch"] == patch


def test_unknown_patch_is_404(client, project):
    assert client.get("/project/demo/patch/nothing@example.com/").status_code == 404
    other = make_patch(project)
    assert client.get(f"/project/elsewhere/patch/{other.url_msgid}/").status_code == 404


def test_page_shows_facts_links_and_downloads(client, project, maintainer):
    project.list_archive_url_format = "https://lore.example.org/r/{}"
    project.commit_url_format = "https://git.example.org/c/{}"
    project.save()
    patch = make_patch(project, delegate=maintainer, commit_ref="abc123")
    body = client.get(url(patch)).content.decode()
    assert f"https://lore.example.org/r/{patch.url_msgid}" in body
    assert 'href="https://git.example.org/c/abc123"' in body
    assert f'href="{url(patch)}mbox/"' in body
    assert f'href="{url(patch)}raw/"' in body
    assert f'data-copy="git pw patch apply {patch.pk}"' in body
    assert f'data-copy="pwclient git-am {patch.pk}"' in body
    assert maintainer.display_name in body


def test_facts_show_the_tag_counts_given_so_far(client, project):
    patch = make_patch(project)
    acked, reviewed = Tag.objects.get(name="Acked-by"), Tag.objects.get(name="Reviewed-by")
    PatchTag.objects.create(patch=patch, tag=acked, count=2)
    PatchTag.objects.create(patch=patch, tag=reviewed, count=0)  # none given: not shown
    facts = client.get(url(patch)).content.decode().split('id="patch-facts"')[1]
    facts = facts.split("</dl>")[0]
    assert 'title="Acked-by: 2">Acked-by ×2</span>' in facts
    assert "Reviewed-by" not in facts
    project.use_tags = False
    project.save()
    assert "Acked-by" not in client.get(url(patch)).content.decode()


def test_mail_content_is_escaped_everywhere(client, project):
    evil = "<img src=x onerror=alert(1)>"
    patch = make_patch(
        project,
        name=f"[PATCH] {evil}",
        content=f"Body {evil}\n> quoted {evil}",
        headers=f"X-Evil: {evil}\n",
        diff=f"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-{evil}\n+{evil}\n",
    )
    make_patch_comment(patch, content=f"Reply {evil}")
    body = client.get(url(patch)).content.decode()
    assert evil not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert '<span class="quote">&gt; quoted &lt;img' in body


def test_diff_is_highlighted_per_file(client, project):
    diff = (
        "diff --git a/one.c b/one.c\n--- a/one.c\n+++ b/one.c\n@@ -1 +1 @@\n-old\n+new\n"
        "diff --git a/two.py b/two.py\n--- a/two.py\n+++ b/two.py\n@@ -1 +1,2 @@\n x\n+y\n"
    )
    patch = make_patch(project, diff=diff)
    response = client.get(url(patch))
    files = response.context["diff_files"]
    assert [(f.name, f.added, f.removed) for f in files] == [("one.c", 1, 1), ("two.py", 1, 0)]
    body = response.content.decode()
    assert '<span class="gi">+new</span>' in body
    assert '<span class="gd">-old</span>' in body
    assert body.count('class="diff-file-header"') == 2


def test_series_navigation_and_dependencies(client, project):
    cover = make_cover(project, name="The cover")
    series = make_series(project, name="Three things", total=3, cover=cover)
    base = make_series(project, name="Base work")
    series.dependencies.add(base)
    now = timezone.now()
    p1, p2, p3 = (
        make_patch(
            project, series=series, number=n, name=f"[{n}/3] thing", date=now + timedelta(minutes=n)
        )
        for n in (1, 2, 3)
    )
    response = client.get(url(p2))
    assert response.context["previous_patch"] == p1
    assert response.context["next_patch"] == p3
    body = response.content.decode()
    assert "3 of 3 received" in body
    assert "The cover" in body
    assert "Base work" in body
    assert 'aria-current="page"' in body
    first = client.get(url(p1))
    assert first.context["previous_patch"] is None


def test_series_box_items_numbered_named_and_current(client, project):
    series = make_series(project, name="Loose", total=3)
    now = timezone.now()
    unnumbered = make_patch(project, series=series, number=None, name="<b>x</b>", date=now)
    nameless = make_patch(project, series=series, number=3, name="", date=now)
    body = client.get(url(nameless)).content.decode()
    box = body.split('id="patch-series"')[1].split("</ol>")[0]
    # Without a number an item is numbered by its place (after the numbered ones); without
    # a name it says so.
    assert f'<li value="2"><a href="{url(unnumbered)}">&lt;b&gt;x&lt;/b&gt;</a></li>' in box
    assert (
        f'<li class="this-patch" aria-current="page" value="3"><a href="{url(nameless)}">'
        "(no subject)</a></li>"
    ) in box


def test_related_patches_and_checks(client, project):
    relation = PatchRelation.objects.create()
    patch = make_patch(project, related=relation)
    make_patch(project, name="the backport", related=relation)
    ci = make_user("ci")
    make_check(patch, ci, context="build", state="pending")
    make_check(
        patch,
        ci,
        context="build",
        state="fail",
        description="oops",
        target_url="https://ci.example.org/1",
    )
    response = client.get(url(patch))
    body = response.content.decode()
    assert "the backport" in body
    assert [c.state for c in response.context["checks"]] == ["fail"]  # latest per context
    assert 'href="https://ci.example.org/1"' in body
    assert "oops" in body


def test_comments_in_date_order_with_permalinks(client, project):
    patch = make_patch(project)
    now = timezone.now()
    late = make_patch_comment(patch, content="second", date=now)
    early = make_patch_comment(patch, content="first", date=now - timedelta(hours=1))
    response = client.get(url(patch))
    assert response.context["comments"] == [early, late]
    body = response.content.decode()
    assert f'id="comment-{early.pk}"' in body
    assert reverse("comment-redirect", args=[early.pk]) in body
    redirect = client.get(reverse("comment-redirect", args=[early.pk]))
    assert redirect.status_code == 302
    assert redirect["Location"] == f"{url(patch)}#comment-{early.pk}"
    assert client.get(reverse("comment-redirect", args=[999999])).status_code == 404


def busy_patch(project, size: int):
    """A patch in a series of `size` patches, with `size` comments and checks, related to one."""
    series = make_series(project, total=size)
    patch = make_patch(project, series=series, number=1, related=PatchRelation.objects.create())
    make_patch(project, related=patch.related)
    for n in range(2, size + 1):
        make_patch(project, series=series, number=n)
    ci = make_user()
    for n in range(size):
        make_patch_comment(patch)
        make_check(patch, ci, context=f"c{n}")
    return patch


# Queries of the patch page (bench/reads.py times it): the patch with its project, people,
# state, tag counts and the live cursor; the series with its cover and revisions; the
# series' patches; comments; checks; related patches. A signed-in viewer adds their session,
# user, bundles and the maintainer checks (a maintainer: the triage form's states and
# delegates instead of the submitter check). The series is not joined to the patch's own
# query on purpose: PostgreSQL took 6-12 ms to plan that eight-table join.
PATCH_PAGE_QUERIES = {"anonymous": 6, "stranger": 11, "maintainer": 12}


@pytest.mark.parametrize("persona", ["anonymous", "stranger", "maintainer"])
def test_patch_page_query_count(client, project, persona, request):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    counts = []
    for size in (2, 12):  # more patches in the series, comments, checks: no more queries
        patch = busy_patch(project, size)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url(patch))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == PATCH_PAGE_QUERIES[persona], [
        q["sql"][:120] for q in ctx.captured_queries
    ]


def test_triage_form_only_for_those_who_may_edit(client, project, maintainer, stranger, submitter):
    patch = make_patch(project, submitter=submitter)
    assert 'id="patch-triage"' not in client.get(url(patch)).content.decode()
    client.force_login(stranger)
    assert 'id="patch-triage"' not in client.get(url(patch)).content.decode()
    client.force_login(maintainer)
    assert 'id="patch-triage"' in client.get(url(patch)).content.decode()
    client.force_login(submitter.user)
    assert 'id="patch-triage"' in client.get(url(patch)).content.decode()


def test_maintainer_updates_patch_in_place(client, project, maintainer):
    patch = make_patch(project)
    client.force_login(maintainer)
    response = client.post(
        url(patch),
        {"state": "accepted", "delegate": "maintainer", "archived": "on", "commit_ref": "deadbeef"},
        **htmx_headers("patch-triage"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="patch-triage"' in body
    assert 'id="patch-facts" hx-swap-oob="outerHTML"' in body
    assert "Patch updated." in body
    patch.refresh_from_db()
    assert (patch.state.slug, patch.delegate, patch.archived, patch.commit_ref) == (
        "accepted",
        maintainer,
        True,
        "deadbeef",
    )
    categories = set(Event.objects.filter(patch=patch).values_list("category", flat=True))
    assert {Event.PATCH_STATE_CHANGED, Event.PATCH_DELEGATED} <= categories


def test_triage_without_htmx_redirects_back(client, project, maintainer):
    patch = make_patch(project)
    client.force_login(maintainer)
    response = client.post(url(patch), {"state": "rejected", "delegate": ""})
    assert response.status_code == 302
    assert response["Location"] == url(patch)
    patch.refresh_from_db()
    assert patch.state.slug == "rejected"


def test_bad_triage_input_changes_nothing(client, project, maintainer, stranger):
    patch = make_patch(project)
    client.force_login(maintainer)
    response = client.post(url(patch), {"state": "bogus", "delegate": "stranger"}, **htmx_headers())
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice" in body
    patch.refresh_from_db()
    assert patch.state.slug == "new" and patch.delegate is None
    assert not Event.objects.filter(patch=patch).exists()


def test_triage_refused_for_strangers_and_anonymous(client, project, stranger):
    patch = make_patch(project)
    response = client.post(url(patch), {"state": "accepted"})
    assert response.status_code == 302 and "/user/login/" in response["Location"]
    client.force_login(stranger)
    assert client.post(url(patch), {"state": "accepted"}).status_code == 403
    patch.refresh_from_db()
    assert patch.state.slug == "new"


def test_comment_addressed_toggle(client, project, maintainer, stranger):
    patch = make_patch(project)
    comment = make_patch_comment(patch)
    toggle = reverse("comment-addressed", args=[comment.pk])
    client.force_login(stranger)
    assert client.post(toggle, {"addressed": "true"}).status_code == 403
    client.force_login(maintainer)
    assert client.post(toggle, {"addressed": "maybe"}).status_code == 400
    comment.refresh_from_db()
    assert comment.addressed is None
    response = client.post(toggle, {"addressed": "true"}, **htmx_headers())
    assert response.status_code == 200
    assert "Addressed" in response.content.decode()
    assert "Mark unaddressed" in response.content.decode()
    comment.refresh_from_db()
    assert comment.addressed is True
    response = client.post(toggle, {"addressed": "false"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.addressed is False


def test_short_patch_url_redirects(client, project):
    patch = make_patch(project)
    response = client.get(f"/patch/{patch.pk}/")
    assert response.status_code == 301
    assert response["Location"] == url(patch)


def test_cover_page_and_its_comments(client, project, django_assert_max_num_queries):
    cover = make_cover(project, name="Cover <b>letter</b>", content="Why <this>")
    series = make_series(project, cover=cover, total=2)
    make_patch(project, series=series, number=1, name="first")
    from tests.factories import make_cover_comment

    comment = make_cover_comment(cover, content="nice")
    for _ in range(5):
        make_cover_comment(cover)
    cover_url = reverse("cover-detail", args=["demo", cover.url_msgid])
    with django_assert_max_num_queries(8):
        response = client.get(cover_url)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Cover &lt;b&gt;letter&lt;/b&gt;" in body
    assert "Why &lt;this&gt;" in body
    assert "first" in body
    assert "1 of 2 received" in body
    assert reverse("cover-comment-redirect", args=[comment.pk]) in body
    redirect = client.get(reverse("cover-comment-redirect", args=[comment.pk]))
    assert redirect["Location"] == f"{cover_url}#comment-{comment.pk}"


def test_state_unchanged_when_state_is_accepted_already(client, project, maintainer):
    patch = make_patch(project, state=default_state("accepted"))
    client.force_login(maintainer)
    client.post(url(patch), {"state": "accepted", "delegate": ""})
    assert not Event.objects.filter(patch=patch, category=Event.PATCH_STATE_CHANGED).exists()


def test_check_target_urls_link_only_to_the_web(client, project):
    patch = make_patch(project)
    ci = make_user("ci")
    make_check(patch, ci, context="good", target_url="https://ci.example.org/7")
    make_check(patch, ci, context="evil", target_url="javascript:alert(1)")
    body = client.get(url(patch)).content.decode()
    assert 'href="https://ci.example.org/7"' in body
    assert "javascript:" not in body


def test_htmx_csrf_header_only_for_signed_in_viewers(client, project, stranger):
    # An anonymous visitor has no form on the page, so no token is made for them (it
    # cost about 800 Python calls a page); signed in, htmx sends it as a header.
    patch = make_patch(project)
    response = client.get(url(patch))
    assert "hx-headers" not in response.content.decode()
    assert "csrftoken" not in response.cookies
    client.force_login(stranger)
    response = client.get(url(patch))
    token = response.cookies["csrftoken"].value
    assert token and 'hx-headers=\'{"X-CSRFToken": "' in response.content.decode()


def test_ids_and_counts_show_as_plain_digits(client, project, settings):
    # The page renders its numbers without locale formatting: the digits, whatever the
    # locale settings would group them into.
    settings.USE_THOUSAND_SEPARATOR = True
    patch = make_patch(project, diff="--- a/f\n+++ b/f\n@@ -1 +1,1200 @@\n" + "+x\n" * 1200)
    body = client.get(url(patch)).content.decode()
    assert 'class="plus">+1200</span>' in body
    assert f"Patch #{patch.pk}<" in body
