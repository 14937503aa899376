"""The range-diff benchmark still runs (bench/range_diff.py), at a tiny size; no timing here."""

from __future__ import annotations

import subprocess

from bench.range_diff import measure


def history(tmp_path, commits: int):
    """A repository of its own (CI may check this one out shallow)."""
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(repo), "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    for n in range(commits):
        (repo / f"file{n % 3}.c").write_text("".join(f"line {i}\n" for i in range(n + 3)))
        git("add", "-A")
        git("commit", "-q", "-m", f"change {n}\n\nWhy {n}.")
    return repo


def test_bench_compares_real_patches_with_git(tmp_path):
    times, info = measure(patches=6, repo=history(tmp_path, 6), runs=1)
    assert len(times) == 1 and info["method"] == "git" and info["patches"] == 6
    assert {"changed", "dropped", "new", "unchanged"} <= set(info["statuses"])
