"""Range-diff of two 30-patch revisions: the time git takes (target: under 2 s).

    .venv/bin/python -m bench.range_diff [--patches 30] [--repo PATH] [--runs 5]

The patches are real: the last N non-merge commits of a git repository (this
project's own history by default), with their messages and diffs as Patchwork
stores them. The second revision changes a third of them (a line added to the
diff, a reworded message, a collected Reviewed-by), drops one and adds one, as
rerolls do. What is timed is ``compare()``: building both series' commits with
git fast-import and running git range-diff, then parsing its output (what the
celery task spends; the database reads around it are a few queries).
``./dev bench --only rangediff`` adds the figure to the benchmark table.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from apps.series.rangediff.compare import compare
from apps.series.rangediff.synthetic import PatchText
from bench.common import Figure

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0
SEPARATOR = "\x1e"


def real_patches(repo: Path, count: int) -> list[PatchText]:
    """The last count non-merge commits of repo, oldest first, as stored patches."""
    out = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "log",
            "--no-merges",
            "--reverse",
            f"-{count}",
            "-p",
            f"--format={SEPARATOR}%an%x00%ae%x00%at%x00%s%x00%b%x00",
        ],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8", "replace")
    patches = []
    for chunk in out.split(SEPARATOR)[1:]:
        name, email, when, subject, body, diff = chunk.split("\x00", 5)
        patches.append(PatchText(subject, body, name, email, int(when), diff.lstrip("\n")))
    return patches


def reroll(patches: list[PatchText]) -> list[PatchText]:
    """A next revision: every third patch changed one way or another, one dropped, one new."""
    rerolled = []
    for index, patch in enumerate(patches):
        if index == 1:
            continue  # dropped
        if index % 3 == 0:
            kind = (index // 3) % 3
            if kind == 0:
                diff = patch.diff.replace("\n+", "\n+\n+", 1)
                patch = PatchText(**{**vars(patch), "diff": diff})
            elif kind == 1:
                patch = PatchText(**{**vars(patch), "message": "Reworded.\n\n" + patch.message})
            else:
                trailer = "\nReviewed-by: Rae Viewer <rae@example.org>\n"
                patch = PatchText(**{**vars(patch), "message": patch.message + trailer})
        rerolled.append(patch)
    new = "--- /dev/null\n+++ b/NEWS\n@@ -0,0 +1,2 @@\n+News\n+====\n"
    rerolled.append(PatchText("NEWS: start one", "Start.", "Ada", "ada@example.org", 0, new))
    return rerolled


def measure(patches: int = 30, repo: Path = ROOT, runs: int = 5) -> tuple[list[float], dict]:
    old = real_patches(repo, patches)
    new = reroll(old)
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = compare(old, new)
        times.append(time.perf_counter() - started)
    assert result is not None
    counts: dict[str, int] = {}
    for entry in result.entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return times, {"method": result.method, "patches": len(old), "statuses": counts}


def bench_range_diff(patches: int = 30) -> tuple[list[Figure], dict]:
    times, info = measure(patches)
    median = statistics.median(times)
    figure = Figure(
        "range-diff",
        f"{info['patches']}-patch revisions compared ({info['method']})",
        round(median, 3),
        "s",
        f"< {TARGET_SECONDS:g} s",
        median < TARGET_SECONDS and info["method"] == "git",
    )
    return [figure], {"seconds": times, **info}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patches", type=int, default=30)
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times, info = measure(args.patches, args.repo, args.runs)
    print(f"{info['patches']} patches, method {info['method']}, entries {info['statuses']}")
    print(
        f"median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
        f"max {max(times):.3f} s over {len(times)} runs (target < {TARGET_SECONDS:g} s)"
    )


if __name__ == "__main__":
    main()
