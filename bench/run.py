"""Run every benchmark and print one table: each figure, its target, pass or fail.

    ./dev bench [--quick] [--only ingest,reads,live,rangediff,rows,webhooks] [--json PATH]

(`live` runs the live-pages and the webhooks benchmarks; `webhooks` the latter alone.)

Writes the same figures as JSON to var/bench/results-<time>.json (and
var/bench/latest.json). Needs PostgreSQL and Redis (BENCH_PG, BENCH_REDIS;
defaults: the local servers); it owns the databases pw_bench* and Redis db 9.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from bench.common import WORK, Report, migrated_template, write_json

# Sizes: the issue's, and a smoke run's.
FULL = {"messages": 20_000, "patches": 100_000, "requests": 200, "warmup": 10}
QUICK = {"messages": 400, "patches": 3_000, "requests": 30, "warmup": 3}


def prepare_archives(messages: int, seed: int, repo: Path | None) -> tuple[Path, Path]:
    """The base archive from git history, multiplied to `messages` (and to a quarter of it)."""
    from bench import corpus

    base = WORK / f"base-{seed}.mbox"
    archive = corpus.generate(repo or corpus.DEFAULT_REPO, seed=seed, rounds=5)
    corpus.write_mbox(base, archive)
    full = WORK / f"archive-{messages}.mbox"
    small = WORK / f"archive-{messages // 4}.mbox"
    corpus.multiply(base, full, messages)
    corpus.multiply(base, small, messages // 4)
    return full, small


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in ("messages", "patches", "requests"):
        if getattr(args, key):
            sizes[key] = getattr(args, key)
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    WORK.mkdir(parents=True, exist_ok=True)

    report = Report()
    report.info.update(
        started=dt.datetime.now(dt.UTC).isoformat(),
        mode="quick" if args.quick else "full",
        sizes=sizes,
        machine={"cpus": os.cpu_count(), "python": platform.python_version()},
        load_average=os.getloadavg(),
    )
    raw: dict = {}
    started = time.monotonic()
    template = migrated_template()
    if "ingest" in parts:
        from bench.ingest import bench_ingest

        try:
            full, small = prepare_archives(sizes["messages"], args.seed, args.repo)
            figures, raw["ingest"] = bench_ingest(full, small, template, sizes["messages"])
            report.extend(figures)
        except Exception:
            traceback.print_exc()
            report.add("ingest", "ingestion benchmark", None, "", "runs", False, "crashed")
    if "reads" in parts:
        from bench.reads import bench_reads

        try:
            figures, raw["reads"] = bench_reads(template, sizes)
            report.extend(figures)
        except Exception:
            traceback.print_exc()
            report.add("reads", "read benchmark", None, "", "runs", False, "crashed")
    if "live" in parts:
        from bench.push import bench_push

        figures, raw["live"] = bench_push(quick=args.quick)
        report.extend(figures)
    elif "webhooks" in parts:  # "live" runs the webhooks benchmark too
        from bench.push import bench_webhooks

        figures, raw["live"] = bench_webhooks(quick=args.quick)
        report.extend(figures)

    if "rows" in parts:
        from bench.list_rows import bench_list_rows

        figures, raw["rows"] = bench_list_rows(template)
        report.extend(figures)

    if "rangediff" in parts:
        from bench.range_diff import bench_range_diff

        figures, raw["rangediff"] = bench_range_diff()
        report.extend(figures)

    report.info["seconds"] = round(time.monotonic() - started, 1)
    report.info["load_average_end"] = os.getloadavg()
    print(report.table())
    _write_results(report, raw, args.json)
    return 0 if all(f.ok is not False for f in report.figures) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", default="ingest,reads,live,rangediff", help="which parts to run")
    parser.add_argument("--messages", type=int, help="archive size for ingestion")
    parser.add_argument("--patches", type=int, help="patches in the read database")
    parser.add_argument("--requests", type=int, help="requests per endpoint and concurrency")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repo", type=Path, help="git repository the corpus is made from")
    parser.add_argument("--json", type=Path, help="where to write the JSON results")
    return parser


def _write_results(report: Report, raw: dict, path: Path | None) -> None:
    """The figures and raw measurements as JSON: at path (else a dated file) and latest.json."""
    data = {**report.to_json(), "raw": raw}
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path or WORK / f"results-{stamp}.json"
    write_json(target, data)
    write_json(WORK / "latest.json", data)
    print(f"\nJSON: {target}")


if __name__ == "__main__":
    sys.exit(main())
