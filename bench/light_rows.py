"""REST lists read as light rows (``values()`` → attribute objects) against model
instances (select_related/only), on the same pages.

Requests are made in-process, alternately both ways; the figure is the process CPU
time per request (median), requests alternating one by one. The JSON must be the same both ways.

    python -m bench.light_rows DATABASE

DATABASE: a migrated database filled by bench/dataset.py (``dataset.build(DATABASE,
5000)``). LR_ROUNDS, LR_REQUESTS and LR_ONLY (patches, series) tune the run.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from functools import partial

ROUNDS = int(os.environ.get("LR_ROUNDS", "5"))
REQUESTS = int(os.environ.get("LR_REQUESTS", "30"))
PATHS = {
    "patches": "/api/1.4/patches/?per_page=100",
    "series": "/api/1.4/series/?per_page=100",
}


def _measure() -> dict:
    import django

    django.setup()
    from django.test import Client

    from apps.api import patches as api_patches
    from apps.patches.selectors import patch_summaries
    from apps.series import selectors as series_selectors
    from apps.series.selectors import series_patches

    fast = {
        "patches": [(api_patches, "patch_summaries", api_patches.patch_summaries)],
        "series": [
            (series_selectors, "series_patches", series_selectors.series_patches),
        ],
    }
    slow = {
        "patches": [(api_patches, "patch_summaries", partial(patch_summaries, fast=False))],
        "series": [
            (series_selectors, "series_patches", partial(series_patches, fast=False)),
        ],
    }
    client = Client(HTTP_HOST="localhost")

    def once(path: str) -> tuple[float, float, bytes]:
        started, wall = time.process_time(), time.perf_counter()
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        return time.process_time() - started, time.perf_counter() - wall, response.content

    out = {}
    only = os.environ.get("LR_ONLY")
    for name, path in PATHS.items():
        if only and name != only:
            continue
        modes = [("fast", fast), ("plain", slow)]
        times = {m: [] for m, _ in modes}
        walls = {m: [] for m, _ in modes}
        bodies = {}
        once(path)  # warm
        for _ in range(ROUNDS * REQUESTS):  # A, B, A, B: the load drifts alike for both
            for mode, table in modes:
                for module, attr, func in table[name]:
                    setattr(module, attr, func)
                cpu, wall, bodies[mode] = once(path)
                times[mode].append(cpu)
                walls[mode].append(wall)
        for module, attr, func in fast[name]:
            setattr(module, attr, func)
        f, p = statistics.median(times["fast"]), statistics.median(times["plain"])
        out[name] = {
            "fast_cpu_ms": round(1000 * f, 2),
            "plain_cpu_ms": round(1000 * p, 2),
            "saved_pct": round(100 * (1 - f / p), 1),
            "paired_saved_pct": round(
                100
                * statistics.median(
                    1 - a / b for a, b in zip(times["fast"], times["plain"], strict=True)
                ),
                1,
            ),
            "fast_wall_ms": round(1000 * statistics.median(walls["fast"]), 2),
            "plain_wall_ms": round(1000 * statistics.median(walls["plain"]), 2),
            "same": json.loads(bodies["fast"]) == json.loads(bodies["plain"]),
            "per_round_cpu_ms": {
                m: [
                    round(1000 * statistics.median(times[m][i * REQUESTS : (i + 1) * REQUESTS]), 2)
                    for i in range(ROUNDS)
                ]
                for m in times
            },
        }
    out["load"] = os.getloadavg()
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1:  # run again in a production-like environment on that database
        import subprocess

        from bench.common import PYTHON, ROOT, bench_env

        env = bench_env(sys.argv[1], redis_db=None)
        env.update({k: v for k, v in os.environ.items() if k.startswith("LR_")})
        sys.exit(subprocess.run([PYTHON, "-m", "bench.light_rows"], cwd=ROOT, env=env).returncode)
    print(json.dumps(_measure()))
    sys.exit(0)
