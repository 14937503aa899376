"""Fragments rendered once per kind of viewer, with nothing of one viewer in another's.

A broadcast renders once a process for each kind of viewer a page has (anonymous,
signed in, maintainer, with the id column …), not once a socket; the CSRF token
of a form in a shared fragment is each socket's own.
"""

from __future__ import annotations

import re
from unittest import mock

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.test import RequestFactory
from django.utils.crypto import get_random_string

from apps.live import render
from apps.patches.services import patch_update
from tests.factories import make_patch, make_series, make_user
from tests.live.conftest import (
    follow,
    live_db,
    receive,
    run,
    session_cookie,
    set_state,
)

pytestmark = live_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_accepts(secret: str, token: str) -> bool:
    """Whether Django's CSRF check passes a form posting `token` with cookie `secret`."""
    request = RequestFactory().post("/", {"csrfmiddlewaretoken": token})
    request.COOKIES[settings.CSRF_COOKIE_NAME] = secret
    request._dont_enforce_csrf_checks = False
    middleware = CsrfViewMiddleware(lambda r: None)
    middleware.process_request(request)
    return middleware.process_view(request, lambda r: None, (), {}) is None


async def with_csrf(user, secret: str) -> str:
    return f"{await run(session_cookie, user)}; {settings.CSRF_COOKIE_NAME}={secret}"


async def test_list_rows_render_once_per_viewer_kind_and_fit_each_viewer(project, maintainer):
    patch = await run(make_patch, project)
    # A second maintainer who asked for the id column.
    counter = await run(make_user, "counter", show_ids=True)
    colleague = await run(make_user, "colleague")
    for user in (counter, colleague):
        await run(project.maintainers.add, user)
    anonymous = [await follow(f"/ws/list/{project.pk}/") for _ in range(3)]
    plain = [await follow(f"/ws/list/{project.pk}/", user) for user in (maintainer, colleague)]
    with_ids = await follow(f"/ws/list/{project.pk}/", counter)
    with mock.patch.object(render, "page_ops", wraps=render.page_ops) as rendering:
        await run(set_state, patch, "accepted", maintainer)
        html = {}
        for name, communicator in [
            *(("anonymous", c) for c in anonymous),
            *(("plain", c) for c in plain),
            ("with_ids", with_ids),
        ]:
            [op] = (await receive(communicator))["ops"]
            assert html.setdefault(name, op["html"]) == op["html"]
    # Three kinds of viewer, three renderings (not six, one a socket, nor four, one a user).
    assert rendering.call_count == 3
    assert 'type="checkbox"' not in html["anonymous"]
    assert 'type="checkbox"' in html["plain"] and "col-id" not in html["plain"]
    assert 'type="checkbox"' in html["with_ids"] and f">{patch.pk}</td>" in html["with_ids"]
    assert all("Accepted" in h for h in html.values())


async def test_each_maintainer_gets_their_own_csrf_token_in_a_shared_series_row(
    project, maintainer
):
    series = await run(make_series, project, name="Frob", total=1)
    patch = await run(make_patch, project, series=series, number=1)
    other = await run(make_user, "other-maintainer")
    await run(project.maintainers.add, other)
    stranger = await run(make_user, "stranger")
    secrets = [get_random_string(32), get_random_string(32)]
    path = f"/ws/serieslist/{project.pk}/"
    mine = await follow(path, cookie=await with_csrf(maintainer, secrets[0]))
    theirs = await follow(path, cookie=await with_csrf(other, secrets[1]))
    outsider = await follow(path, cookie=await with_csrf(stranger, get_random_string(32)))
    with mock.patch.object(render, "page_ops", wraps=render.page_ops) as rendering:
        await run(set_state, patch, "accepted", maintainer)
        ops = [(await receive(c))["ops"] for c in (mine, theirs, outsider)]
    # The two maintainers share a rendering; the stranger, who gets no form, has another.
    assert rendering.call_count == 2
    [[mine_op], [theirs_op], [outsider_op]] = ops
    assert "series-action" not in outsider_op["html"] and not TOKEN.search(outsider_op["html"])
    assert render.CSRF_PLACEHOLDER not in mine_op["html"] + theirs_op["html"]
    tokens = [TOKEN.search(op["html"]).group(1) for op in (mine_op, theirs_op)]
    assert tokens[0] != tokens[1]
    # Each token passes with its own viewer's cookie, and not with the other's.
    assert await run(csrf_accepts, secrets[0], tokens[0])
    assert await run(csrf_accepts, secrets[1], tokens[1])
    assert not await run(csrf_accepts, secrets[0], tokens[1])
    assert not await run(csrf_accepts, secrets[1], tokens[0])
    # Apart from the token, the bytes are the same.
    assert TOKEN.sub("", mine_op["html"]) == TOKEN.sub("", theirs_op["html"])


async def test_patch_page_controls_reach_only_those_who_may_use_them(
    project, maintainer, submitter
):
    patch = await run(make_patch, project, submitter=submitter)
    stranger = await run(make_user, "stranger")
    path = f"/ws/patch/{patch.pk}/"
    as_maintainer = await follow(path, cookie=await with_csrf(maintainer, get_random_string(32)))
    as_submitter = await follow(path, submitter.user)
    as_stranger = await follow(path, stranger)
    anonymous = await follow(path)
    await run(patch_update, patch=patch, actor=maintainer, commit_ref="abc123")
    ids = {}
    for name, communicator in [
        ("maintainer", as_maintainer),
        ("submitter", as_submitter),
        ("stranger", as_stranger),
        ("anonymous", anonymous),
    ]:
        message = await receive(communicator)
        ids[name] = {op["id"]: op["html"] for op in message["ops"]}
    assert "patch-triage" in ids["maintainer"] and "patch-triage" in ids["submitter"]
    assert "patch-triage" not in ids["stranger"] and "patch-triage" not in ids["anonymous"]
    assert all("abc123" in by_id["patch-facts"] for by_id in ids.values())
    triage = ids["maintainer"]["patch-triage"]
    assert render.CSRF_PLACEHOLDER not in triage
