"""Live knows its pages only through the registry the pages fill (WebConfig.ready)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.template import Context, Template, TemplateSyntaxError

from apps.live import pages
from apps.live.pages import live_page_kind, live_page_open

LIVE = Path(pages.__file__).parent


def test_every_live_page_of_the_site_is_registered():
    kinds = {name: live_page_kind(name) for name in ("list", "patch", "series", "serieslist")}
    assert all(kinds.values())
    assert {name: kind.region for name, kind in kinds.items()} == {
        "list": "patch-list-results",
        "patch": "main",
        "series": "main",
        "serieslist": "series-list-results",
    }


def test_an_unknown_kind_is_no_page():
    assert live_page_open(kind="bundle", object_id=1, query_string="", user=None) is None
    with pytest.raises(TemplateSyntaxError):
        Template('{% load live %}{% live_socket "bundle" 1 %}').render(Context({}))


def test_live_imports_no_page_module():
    """The pages (apps.web) sit above live: live asks the registry, never imports them."""
    for path in LIVE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                assert not any(n.startswith("apps.web") for n in names), path
