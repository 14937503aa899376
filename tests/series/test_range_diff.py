"""Range-diff between revisions: computed by git from the stored diffs, cached, shown as a page,
as text, in REST and on the series pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.series.models import RangeDiff, Series
from apps.series.rangediff.services import (
    range_diff_against,
    range_diff_get,
    range_diff_summary,
)
from apps.series.tasks import series_range_diff
from tests.api.client import ApiClient
from tests.factories import make_patch, make_patch_comment, make_person, make_series
from tests.mails import deliver
from tests.rerolls import v1, v2

pytestmark = pytest.mark.django_db

FROB_DIFF = """\
diff --git a/src/frob.c b/src/frob.c
index e3f2946..81ee493 100644
--- a/src/frob.c
+++ b/src/frob.c
@@ -10,4 +10,6 @@ int frob(int x)
 int frob(int x)
 {{
+\tif (x < 0)
+\t\treturn {value};
 \treturn x + 1;
 }}
"""
DOCS_DIFF = """\
diff --git a/docs/README b/docs/README
index 1111111..2222222 100644
--- a/docs/README
+++ b/docs/README
@@ -1,2 +1,3 @@
 Frobnicator
+{line}
 The end.
"""


def url(name: str, series: Series, **query) -> str:
    path = reverse(name, args=[series.project.linkname, series.pk])
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def ada():
    return make_person("ada@example.org", name="Ada Lovelace")


def revision(project, ada, version, patches, previous=None):
    """A series of (subject, content, diff) patches, rerolling previous."""
    series = make_series(project, submitter=ada, name="Frob", version=version, total=len(patches))
    series.previous_revision = previous
    series.save()
    for number, (subject, content, diff) in enumerate(patches, start=1):
        make_patch(
            project,
            series=series,
            number=number,
            submitter=ada,
            name=f"[v{version},{number}/{len(patches)}] {subject}",
            content=content,
            diff=diff,
        )
    return series


SIGNED = "Signed-off-by: Ada Lovelace <ada@example.org>"


@pytest.fixture
def chain(project, ada):
    """v1 (frob, docs), v2 (frob changed, docs unchanged), v3 (frob unchanged, docs dropped,
    a new patch)."""
    frob1 = ("frob: handle negatives", f"Negatives wrapped.\n\n{SIGNED}", FROB_DIFF.format(value=0))
    frob2 = (
        "frob: handle negatives",
        f"Negatives wrapped.\n\n{SIGNED}",
        FROB_DIFF.format(value="-x"),
    )
    docs = (
        "docs: explain frob",
        f"Say what it does.\n\n{SIGNED}",
        DOCS_DIFF.format(line="It frobs."),
    )
    note = "diff --git a/NOTES b/NOTES\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES\n"
    note += "@@ -0,0 +1,4 @@\n+Notes\n+=====\n+\n+Frobbing is idempotent.\n"
    new = ("notes: start a notes file", f"Notes.\n\n{SIGNED}", note)
    s1 = revision(project, ada, 1, [frob1, docs])
    s2 = revision(project, ada, 2, [frob2, docs], previous=s1)
    s3 = revision(project, ada, 3, [frob2, new], previous=s2)
    return s1, s2, s3


def statuses(row: RangeDiff) -> list[tuple[str, int | None, int | None]]:
    return [(e["status"], e["old"], e["new"]) for e in row.entries]


def test_git_range_diff_of_two_revisions(chain):
    s1, s2, _ = chain
    row = range_diff_get(series=s2, against=s1)
    assert row.method == "git"
    assert statuses(row) == [("changed", 1, 1), ("unchanged", 2, 2)]
    changed = row.entries[0]
    assert "-+\t\treturn 0;" in changed["code"] and "++\t\treturn -x;" in changed["code"]
    assert changed["message"] == [] and changed["trailers"] == []
    summary = range_diff_summary(row, series=s2, against=s1)
    assert summary["changed"] == 1 and summary["patches"] == 2
    assert summary["unchanged_patch_ids"] == [row.entries[1]["new_id"]]


def test_new_dropped_and_earlier_revision(chain):
    s1, s2, s3 = chain
    assert range_diff_against(s3, None) == s2
    row = range_diff_get(series=s3, against=s2)
    assert sorted(statuses(row), key=str) == [
        ("dropped", 2, None),
        ("new", None, 2),
        ("unchanged", 1, 1),
    ]
    assert range_diff_summary(row, series=s3, against=s2)["changed"] == 1  # the new one
    against_v1 = range_diff_get(series=s3, against=range_diff_against(s3, str(s1.pk)))
    assert against_v1.entries[0]["status"] == "changed"


def test_real_git_mails_v1_to_v2(frob):
    for raw in v1() + v2():
        deliver(raw)
    second = Series.objects.get(version=2)
    row = range_diff_get(series=second, against=second.previous_revision)
    assert row.method == "git"
    first = row.entries[0]
    assert (first["status"], first["old"], first["new"]) == ("changed", 1, 1)
    assert any("Mirror it instead." in line for line in first["message"])
    assert any("return -x;" in line for line in first["code"])
    assert "1:  " in row.text and " ! 1:  " in row.text


def test_collected_trailers_shown_apart_and_not_a_change(project, ada):
    patch = ("frob: x", f"Body.\n\n{SIGNED}", FROB_DIFF.format(value=0))
    s1 = revision(project, ada, 1, [patch])
    s2 = revision(project, ada, 2, [patch], previous=s1)
    assert statuses(range_diff_get(series=s2, against=s1)) == [("unchanged", 1, 1)]
    make_patch_comment(s2.patches.get(), content="Reviewed-by: Bob Reviewer <bob@example.org>\n")
    row = range_diff_get(series=s2, against=s1)  # the new comment makes the cached row stale
    entry = row.entries[0]
    assert entry["status"] == "unchanged"
    assert entry["trailers"] == ["Reviewed-by: Bob Reviewer <bob@example.org>"]
    assert entry["message"] == [] and entry["code"] == []


def test_cached_until_the_revisions_change(chain):
    s1, s2, _ = chain
    first = range_diff_get(series=s2, against=s1)
    again = range_diff_get(series=s2, against=s1)
    assert again.computed_at == first.computed_at
    assert RangeDiff.objects.filter(series=s2, against=s1).count() == 1
    forced = range_diff_get(series=s2, against=s1, refresh=True)
    assert forced.computed_at > first.computed_at


def test_stored_diffs_compared_when_git_cannot_build_the_commits(project, ada):
    broken = "--- a/x\n+++ b/x\n@@ -1,5 +1,5 @@\n-old\n+{}\n"  # a hunk cut short
    s1 = revision(project, ada, 1, [("x: one", "One.", broken.format("one"))])
    s2 = revision(project, ada, 2, [("x: one", "One.", broken.format("uno"))], previous=s1)
    row = range_diff_get(series=s2, against=s1)
    assert row.method == "stored"
    assert statuses(row) == [("changed", 1, 1)]
    assert "-+one" in row.entries[0]["code"] and "++uno" in row.entries[0]["code"]


def test_page_shows_each_patch_escaped(client, project, ada):
    evil = ("frob: <script>alert(1)</script>", "Body <b>bold</b>.", FROB_DIFF.format(value=0))
    s1 = revision(project, ada, 1, [evil])
    changed = (evil[0], evil[1], FROB_DIFF.format(value="<img src=x onerror=alert(2)>"))
    s2 = revision(project, ada, 2, [changed], previous=s1)
    response = client.get(url("series-range-diff", s2))
    body = response.content.decode()
    assert response.status_code == 200
    assert "v2: 1 of 1 patch changed since v1" in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    text = client.get(url("series-range-diff-text", s2))
    assert text["Content-Type"].startswith("text/plain")
    assert "v2: 1 of 1 patch changed since v1" in text.content.decode()
    assert "1:  " in text.content.decode() and "<img src=x" in text.content.decode()


def test_against_must_be_an_earlier_revision(client, chain, project, ada):
    s1, s2, s3 = chain
    other = revision(project, ada, 1, [("y", "Y.", DOCS_DIFF.format(line="y"))])
    assert client.get(url("series-range-diff", s3, against=s1.pk)).status_code == 200
    for against, message in (
        (other.pk, f"Series {other.pk} is not an earlier revision of series {s3.pk}."),
        (s3.pk, f"Series {s3.pk} is not an earlier revision of series {s3.pk}."),
        ("abc", "against must be a series id, not &#x27;abc&#x27;."),
    ):
        response = client.get(url("series-range-diff", s3, against=against))
        assert response.status_code == 400
        assert message in response.content.decode()
    text = client.get(url("series-range-diff-text", s3, against=other.pk))
    assert text.status_code == 400 and b"not an earlier revision" in text.content
    missing = client.get(url("series-range-diff", s1))
    assert missing.status_code == 404 and b"has no previous revision" in missing.content
    assert client.get(url("series-range-diff-text", s1)).status_code == 404
    wrong_project = reverse("series-range-diff", args=["nope", s2.pk])
    assert client.get(wrong_project).status_code == 404
    # Only the good request was computed and stored.
    assert list(RangeDiff.objects.values_list("series_id", "against_id")) == [(s3.pk, s1.pk)]


def test_series_page_and_list_flag_the_changes(client, chain, project):
    s1, s2, _ = chain
    series_series_range_diff = reverse("series-range-diff", args=[project.linkname, s2.pk])
    page = client.get(reverse("series-detail", args=[s2.pk])).content.decode()
    assert series_series_range_diff in page  # linked even before it is computed
    series_range_diff(s2.pk)  # the worker's task
    page = client.get(reverse("series-detail", args=[s2.pk])).content.decode()
    assert "v2: 1 of 2 patches changed since v1" in page
    listing = client.get(reverse("series-list", args=[project.linkname])).content.decode()
    assert "v2: 1 of 2 patches changed since v1" in listing
    assert f'href="{series_series_range_diff}"' in listing


def test_completing_a_revision_computes_its_range_diff_once(
    frob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for raw in v1() + v2():
            deliver(raw)
    second = Series.objects.get(version=2)
    row = RangeDiff.objects.get(series=second)
    assert row.against_id == second.previous_revision_id and row.method == "git"


def test_a_revision_linked_after_it_completed_is_compared_too(
    frob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for raw in v2() + v1():  # the reroll first: linked when v1 arrives
            deliver(raw)
    second = Series.objects.get(version=2)
    assert second.previous_revision is not None
    assert RangeDiff.objects.get(series=second).against_id == second.previous_revision_id


@pytest.mark.parametrize("version", ["1.4", None])
def test_rest_links_the_range_diff_in_the_latest_version(chain, version):
    s1, s2, _ = chain
    got = ApiClient(version).get(f"series/{s2.pk}/").json()
    path = reverse("series-range-diff", args=[s2.project.linkname, s2.pk])
    assert got["range_diff"] == f"http://testserver{path}"
    assert ApiClient(version).get(f"series/{s1.pk}/").json()["range_diff"] is None


def test_earlier_versions_do_not_show_the_link(chain):
    _, s2, _ = chain
    for version in ("1.0", "1.3"):
        assert "range_diff" not in ApiClient(version).get(f"series/{s2.pk}/").json()


def test_page_queries_do_not_grow_with_the_patches(client, project, ada):
    def pair(count: int) -> Series:
        patches = [
            (f"p{n}", f"Body {n}.", DOCS_DIFF.format(line=f"line {n}")) for n in range(count)
        ]
        first = revision(project, ada, 1, patches)
        second = revision(project, ada, 2, patches, previous=first)
        client.get(url("series-range-diff", second))  # computed and cached
        return second

    counts = []
    for second in (pair(2), pair(12)):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("series-range-diff", second)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
