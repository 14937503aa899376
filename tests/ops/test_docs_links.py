"""The README and the docs point at things that exist: every relative link (and its
#anchor) resolves, and every file the README or SECURITY.md names in backticks is there.

When code moves, this is what says which sentence of the docs still sends a reader
to the old place.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.servers import ROOT

DOCS = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]
# docs/architecture.md also names the paths code moves to, so only these name files
# that must exist today.
NAMING_FILES = [ROOT / "README.md", ROOT / "SECURITY.md"]
TOP_DIRS = ("apps", "bench", "config", "deploy", "docs", "soak", "static", "templates", "tests")

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def prose(path: Path) -> str:
    """The file without its fenced code blocks (shell examples are not links)."""
    return FENCE.sub("", path.read_text())


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in prose(path).splitlines() if line.startswith("#")}


def relative_links(path: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(path))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def broken_links(doc: Path) -> list[str]:
    broken = []
    for target in relative_links(doc):
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc):
    assert not broken_links(doc)


def test_a_missing_file_or_heading_is_reported(tmp_path):
    doc = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other\n\n## Periodic jobs: beat, or cron\n")
    doc.write_text(
        "# Page\n\n[ok](other.md#periodic-jobs-beat-or-cron) [self](#page)\n"
        "[gone](gone.md) [no heading](other.md#nowhere) [web](https://example.org/x)\n"
        "```\n[in code](ignored.md)\n```\n"
    )
    assert broken_links(doc) == [
        "gone.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
    ]


@pytest.mark.parametrize("doc", NAMING_FILES, ids=lambda p: p.name)
def test_every_named_file_exists(doc):
    missing = []
    for name in CODE.findall(prose(doc)):
        if not name.startswith(tuple(f"{top}/" for top in TOP_DIRS)):
            continue
        if re.search(r"[<>*{}…]", name):  # a pattern, not a path
            continue
        if not (ROOT / name.rstrip("/").split(":")[0]).exists():
            missing.append(name)
    assert not missing, missing


def test_the_readme_links_the_map_and_the_benchmark_history():
    links = relative_links(ROOT / "README.md")
    assert "docs/architecture.md" in links
    assert "docs/benchmarks.md" in links
