"""Live and push latency: the live-pages and webhooks engineers' benchmarks, run and read.

bench/live_latency.py (commit → websocket update on 100 and 1,000 pages) and
bench/webhooks_fanout.py (commit → webhook receiver) belong to their features;
this module runs them when they are there and puts their figures in the table.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from bench.common import DB_PREFIX, PG_SERVER, PYTHON, ROOT, Figure, redis_url

LIVE = ROOT / "bench" / "live_latency.py"
WEBHOOKS = ROOT / "bench" / "webhooks_fanout.py"


def _run_json(script: Path, args: list[str], timeout: float = 1200) -> dict | None:
    """Run a benchmark script that prints JSON as its last line; None if it cannot."""
    if not script.exists():
        return None
    if "--json" in args and "--json" not in script.read_text():
        return {"error": f"{script.name} has no --json output yet"}
    # The databases `./dev bench` owns (pw_bench*, its Redis db), not the scripts' defaults.
    env = {
        **os.environ,
        "WEBHOOK_BENCH_PG": PG_SERVER,
        "WEBHOOK_BENCH_DB": f"{DB_PREFIX}_webhooks",
        "WEBHOOK_BENCH_REDIS": redis_url(),
    }
    proc = subprocess.run(
        [PYTHON, str(script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    # A missed target is a non-zero exit with the figures still printed.
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{script.name} failed:\n{proc.stderr[-2000:]}")


def bench_push(quick: bool = False) -> tuple[list[Figure], dict]:
    figures: list[Figure] = []
    raw: dict = {}
    s = "live and push"
    # Webhooks on the production path: PostgreSQL, Redis and celery workers.
    for script, label, extra in ((LIVE, "live", []), (WEBHOOKS, "webhooks", ["--celery"])):
        try:
            raw[label] = _run_json(script, ["--json", *extra] + (["--quick"] if quick else []))
        except Exception as exc:  # their benchmark's failure is reported, not fatal
            raw[label] = {"error": str(exc)[-500:]}
    live = raw.get("live")
    # The live benchmark judges its own targets (issue 21): 100 and 1,000 open pages,
    # and reports the memory an idle connection costs.
    for target in (live or {}).get("targets", []):
        note = f"{target['note']}; load average {live['load_average']:.1f}"
        figures.append(Figure(s, f"live: {target['name']}", target["value"], target["unit"],
                              target["target"], target["ok"], note))  # fmt: skip
    if not live or "error" in live:
        figures.append(Figure(s, "commit -> websocket update", None, "", "", None,
                              (live or {}).get("error", "bench/live_latency.py not available")))  # fmt: skip
    figures += _webhook_figures(raw.get("webhooks"), s)
    return figures, raw


def bench_webhooks(quick: bool = False) -> tuple[list[Figure], dict]:
    """The webhooks benchmark alone (`./dev bench --only webhooks`)."""
    try:
        hooks = _run_json(WEBHOOKS, ["--json", "--celery"] + (["--quick"] if quick else []))
    except Exception as exc:  # its failure is reported, not fatal
        hooks = {"error": str(exc)[-500:]}
    return _webhook_figures(hooks, "live and push"), {"webhooks": hooks}


def _webhook_figures(hooks: dict | None, s: str) -> list[Figure]:
    figures = []
    # The webhooks benchmark judges its own targets (issue 21) on the deployed topology.
    for target in (hooks or {}).get("targets", []):
        note = "load average {} before, {} after".format(
            *(hooks["conditions"][k]["load_average"] for k in ("before", "after"))
        )
        figures.append(Figure(s, f"webhooks: {target['name']}", target["value"], target["unit"],
                              target["target"], target["ok"], note))  # fmt: skip
    if not hooks or "error" in hooks:
        figures.append(Figure(s, "commit -> webhook receiver", None, "", "", None,
                              (hooks or {}).get("error", "bench/webhooks_fanout.py not available")))  # fmt: skip
    return figures
