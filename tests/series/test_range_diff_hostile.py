"""Hostile or broken diffs never break a comparison: git compares them, or the stored diffs
are (derandomized hypothesis runs; the mail decides every byte of a diff)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.series.rangediff.compare import compare
from apps.series.rangediff.synthetic import PatchText

FAST = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure is reproducible
    suppress_health_check=[HealthCheck.too_slow],
)
# Lines a diff is made of, and the ones that attack paths, modes and hunk counts.
LINES = st.sampled_from(
    [
        "diff --git a/x b/x",
        'diff --git "a/q\\"uote" "b/q\\"uote"',
        "diff --git a/../../etc/passwd b/../../etc/passwd",
        "--- a/x",
        "+++ b/x",
        "--- /dev/null",
        "+++ /dev/null",
        "--- a//abs",
        "new file mode 100644",
        "new file mode 160000",
        "deleted file mode 120000",
        "old mode ",
        "new mode 999999",
        "rename from ",
        "rename to .git/config",
        "index 0000000..1111111 100755",
        "GIT binary patch",
        "@@ -1,2 +1,2 @@",
        "@@ -0,0 +1 @@",
        "@@ -5 +5,3 @@ fn",
        "@@ -99999999,1 +1 @@",
        " context",
        "-removed",
        "+added",
        "",
        "\\ No newline at end of file",
        "+<script>alert(1)</script>",
        "-\x00\udcff",
    ]
)
DIFFS = st.lists(LINES, max_size=12).map("\n".join)


def patch(diff: str, subject: str = "s") -> PatchText:
    return PatchText(subject, "Body.\n\nSigned-off-by: A <a@example.org>", "A <x>", "a@x", 0, diff)


@FAST
@given(old=st.lists(DIFFS, min_size=1, max_size=3), new=st.lists(DIFFS, max_size=3))
def test_any_diffs_compare_without_error(old, new):
    result = compare([patch(d) for d in old], [patch(d) for d in new])
    assert result.method in ("git", "stored")
    assert sum(1 for e in result.entries if e.new) == len(new)
    assert sum(1 for e in result.entries if e.old) == len(old)
