"""Reads at scale: latency and throughput of the busiest pages and API calls.

A database of N patches is written with COPY (bench.dataset), then daphne (two
processes sharing one loopback socket, as behind a proxy) serves it and the
load generator sends each request at concurrency 1 and 8. Then the database
grows to 2N and the lists are measured again. Queries per request are counted
in-process at page sizes 10 and 100 (they must not differ).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import xmlrpc.client
from dataclasses import dataclass, field
from urllib.parse import quote

import psycopg

from bench import dataset
from bench.common import (
    DB_PREFIX,
    PYTHON,
    ROOT,
    Figure,
    bench_env,
    create_database,
    db_url,
    web_servers,
)
from bench.loadgen import Request, fetch, load

DATABASE = f"{DB_PREFIX}_reads"  # BENCH_DB=pw_mine: a database of one's own
WEB_PROCESSES = 2
CONCURRENCY = (1, 8)
# Targets of issue 11.
LIST_P50_MS = 40
# Issue 18: Patchwork 3.2 answers a patch page in 14 ms (c=1 p50, 12.7k patches); ours in half.
PATCH_PAGE_P50_MS = 10
P99_MS = {1: 100, 8: 300}
DEEP_SLOWER = 0.25  # a deep page may be this much slower than the first (noise)
GROWTH = 0.20
# Seconds of measuring per endpoint and concurrency, at most (a slow one gets fewer requests).
BUDGET = 30.0


@dataclass
class Endpoint:
    name: str
    requests: list[Request]
    is_list: bool = False  # a list of 100 items: p50 target applies
    first: str = ""  # for a deep page: the first page it is compared with
    per_page_param: bool = False  # REST: per_page in the query string (queries check)
    scaled: bool = False  # measured again at 2N
    floor: bool = False  # the machine's own speed: no target, for comparison
    p50_ms: float | None = None  # a p50 target at c=1 (besides the p99 ones)
    results: dict = field(default_factory=dict)


def facts(database: str, info: dict) -> dict:
    """What the requests need from the data: ids, counts, dates."""
    with psycopg.connect(db_url(database)) as conn:
        one = lambda sql, *a: conn.execute(sql, a).fetchone()[0]  # noqa: E731
        project = one("SELECT id FROM projects_project WHERE linkname = %s", dataset.BIG)
        new = one("SELECT id FROM projects_state WHERE slug = 'new'")
        action = [r[0] for r in conn.execute("SELECT id FROM projects_state WHERE action_required")]
        f = {
            "project": project,
            "new_state": new,
            "rest_count": one(
                "SELECT count(*) FROM patches_patch WHERE project_id = %s AND state_id = %s "
                "AND NOT archived",
                project,
                new,
            ),
            "html_count": one(
                "SELECT count(*) FROM patches_patch WHERE project_id = %s AND state_id = ANY(%s) "
                "AND NOT archived",
                project,
                action,
            ),
            "series_count": one(
                "SELECT count(*) FROM series_series WHERE project_id = %s", project
            ),
            "last_event": one("SELECT max(date) FROM events_event WHERE project_id = %s", project),
            "max_event": one("SELECT max(id) FROM events_event WHERE project_id = %s", project),
            "patch_ids": [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM patches_patch WHERE project_id = %s ORDER BY md5(id::text) "
                    "LIMIT 50",
                    (project,),
                )
            ],
            # Ordinary patch pages: the ids above, with their message ids for the URL.
            "patch_msgids": [
                r[0]
                for r in conn.execute(
                    "SELECT msgid FROM patches_patch WHERE project_id = %s ORDER BY md5(id::text) "
                    "LIMIT 50",
                    (project,),
                )
            ],
            "search": search_term(conn, project),
            "long_diff": info.get("long_diff_patch"),
            "series_100": info.get("series_100"),
        }
    return f


def deep_page(count: int, per_page: int = 100, cap: int | None = None) -> int:
    """A page 80% of the way through the list (at least the second page if there is one)."""
    pages = max(1, math.ceil(count / per_page))
    if cap:
        pages = min(pages, cap)
    return max(min(2, pages), int(pages * 0.8))


def search_term(conn: psycopg.Connection, project: int) -> str:
    """A word in about 1% of the project's patch names: what someone looking for a driver types."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM patches_patch WHERE project_id = %s ORDER BY id LIMIT 5000", (project,)
    )]  # fmt: skip
    counts: dict[str, int] = {}
    for name in names:
        for word in set(re.findall(r"[a-z]{5,}", name.lower())):
            counts[word] = counts.get(word, 0) + 1
    share = {w: n / max(1, len(names)) for w, n in counts.items()}
    fitting = sorted(w for w, s in share.items() if 0.003 <= s <= 0.02)
    return fitting[len(fitting) // 2] if fitting else "patch"


def endpoints(f: dict) -> list[Endpoint]:
    big = dataset.BIG
    rest = f"/api/1.4/patches/?project={big}&state=new&archived=false&per_page=100"
    rest_deep = deep_page(f["rest_count"])
    series_deep = deep_page(f["series_count"])
    # The HTML list counts at most 10,000 rows, so its last page is at most 100.
    html_deep = deep_page(f["html_count"], cap=100)
    since = (f["last_event"]).strftime("%Y-%m-%dT%H:%M:%S")
    since_week = f["last_event"].replace(microsecond=0) - __import__("datetime").timedelta(days=7)
    after = max(0, f["max_event"] - 20_000)
    long_id, long_msgid = f["long_diff"]
    xml = xmlrpc.client.dumps(
        ({"project_id": f["project"], "state_id": f["new_state"], "archived": False,
          "max_count": -100},),
        "patch_list",
    ).encode()  # fmt: skip
    del since
    return [
        Endpoint("floor: REST API root (no database)", [Request("/api/1.4/")], floor=True),
        Endpoint("REST patches, first page", [Request(rest)], True, per_page_param=True, scaled=True),
        Endpoint("REST patches, deep page", [Request(f"{rest}&page={rest_deep}")], True,
                 first="REST patches, first page", per_page_param=True, scaled=True),
        Endpoint("REST patch detail",
                 [Request(f"/api/1.4/patches/{pid}/") for pid in f["patch_ids"]]),
        Endpoint("REST series, first page",
                 [Request(f"/api/1.4/series/?project={big}&per_page=100")], True,
                 per_page_param=True, scaled=True),
        Endpoint("REST series, deep page",
                 [Request(f"/api/1.4/series/?project={big}&per_page=100&page={series_deep}")],
                 True, first="REST series, first page", per_page_param=True),
        Endpoint("REST events, since",
                 [Request(f"/api/1.4/events/?project={big}&per_page=100&since="
                          f"{since_week.strftime('%Y-%m-%dT%H:%M:%S')}")], True,
                 per_page_param=True, scaled=True),
        Endpoint("REST events, after cursor",
                 [Request(f"/api/1.4/events/?project={big}&per_page=100&after={after}")], True,
                 per_page_param=True, scaled=True),
        Endpoint("REST patches, q search",
                 [Request(f"/api/1.4/patches/?project={big}&q={quote(f['search'])}&per_page=100")],
                 True, per_page_param=True, scaled=True),
        Endpoint("HTML patch list, first page", [Request(f"/project/{big}/list/")], True,
                 scaled=True),
        Endpoint("HTML patch list, deep page", [Request(f"/project/{big}/list/?page={html_deep}")],
                 True, first="HTML patch list, first page", scaled=True),
        Endpoint("HTML patch page",
                 [Request(f"/project/{big}/patch/{quote(m.strip('<>'), safe='@')}/")
                  for m in f["patch_msgids"]], p50_ms=PATCH_PAGE_P50_MS),
        Endpoint("HTML patch page, 1,000-line diff",
                 [Request(f"/project/{big}/patch/{quote(long_msgid.strip('<>'), safe='@')}/")]),
        Endpoint("series mbox, 100 patches", [Request(f"/series/{f['series_100']}/mbox/")]),
        Endpoint("XML-RPC patch_list, state filter",
                 [Request("/xmlrpc/", "POST", xml, {"Content-Type": "text/xml"})], True,
                 scaled=True),
    ]  # fmt: skip


def after_supported(base: str, f: dict) -> bool:
    """Whether /api/events/ knows the `after` cursor (ids after it, not the newest first)."""
    after = max(0, f["max_event"] - 20_000)
    status, body = fetch(base, Request(f"/api/1.4/events/?per_page=5&after={after}"))
    if status != 200:
        return False
    ids = [e["id"] for e in json.loads(body)]
    return bool(ids) and all(i > after for i in ids) and ids != sorted(ids, reverse=True)


def measure(base: str, eps: list[Endpoint], total: int, warmup: int, label: str) -> None:
    for ep in eps:
        status, body = fetch(base, ep.requests[0])
        ep.results[f"{label}:check"] = {"status": status, "bytes": len(body)}
        for c in CONCURRENCY:
            result = load(
                base, ep.requests, total=total, concurrency=c, warmup=warmup, max_seconds=BUDGET
            )
            ep.results[f"{label}:c{c}"] = result.summary()


# --- queries per request, in-process ------------------------------------------------------


def stage_queries(paths: list[dict]) -> dict:
    """Statements each request sends (Django test client, same views, same database)."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    out = {}
    for item in paths:
        # The second request is counted: the first may fill a cache (a long list's length).
        for _ in range(2):
            with CaptureQueriesContext(connection) as ctx:
                if item["method"] == "POST":
                    body = item["body"].encode()
                    response = client.post(item["path"], body, content_type="text/xml")
                else:
                    response = client.get(item["path"])
                if getattr(response, "streaming", False):
                    b"".join(response.streaming_content)
        out[item["name"]] = {"status": response.status_code, "queries": len(ctx.captured_queries)}
    return out


def count_queries(eps: list[Endpoint], per_page: int) -> dict:
    paths = []
    for ep in eps:
        req = ep.requests[0]
        path = req.path.replace("per_page=100", f"per_page={per_page}")
        body = req.body.decode()
        if "max_count" in body:
            body = body.replace("<int>-100</int>", f"<int>-{per_page}</int>")
        paths.append({"name": ep.name, "path": path, "method": req.method, "body": body})
    env = bench_env(
        DATABASE,
        ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
        DEFAULT_ITEMS_PER_PAGE=str(per_page),
    )
    proc = subprocess.run(
        [PYTHON, "-m", "bench.reads", "queries"],
        input=json.dumps(paths),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"query count failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the benchmark ---------------------------------------------------------------------------


def bench_reads(template: str, sizes: dict, reuse: bool = False) -> tuple[list[Figure], dict]:
    patches = sizes["patches"]
    total, warmup = sizes["requests"], sizes["warmup"]
    create_database(DATABASE, template)
    info = dataset.build(DATABASE, patches)
    f = facts(DATABASE, info)
    eps = endpoints(f)
    raw: dict = {"patches": patches, "facts": {k: str(v) for k, v in f.items()}}
    with web_servers(DATABASE, WEB_PROCESSES) as base:
        if not after_supported(base, f):
            eps = [e for e in eps if e.name != "REST events, after cursor"]
            raw["after_cursor"] = "not supported by /api/events/ yet"
        measure(base, eps, total, warmup, "N")
    queries = {10: count_queries(eps, 10), 100: count_queries(eps, 100)}
    raw["queries"] = queries
    dataset.grow(DATABASE, patches)
    scaled = [e for e in eps if e.scaled]
    with web_servers(DATABASE, WEB_PROCESSES) as base:
        measure(base, scaled, total, warmup, "2N")
    raw["endpoints"] = {e.name: e.results for e in eps}
    return figures(eps, queries, patches), raw


def figures(eps: list[Endpoint], queries: dict, patches: int) -> list[Figure]:
    out = []
    by_name = {e.name: e for e in eps}
    s = f"reads ({patches // 1000}k patches)"
    for ep in eps:
        check = ep.results["N:check"]
        if check["status"] != 200:
            out.append(Figure(s, ep.name, None, "", "HTTP 200", False, f"status {check['status']}"))
            continue
        c1, c8 = ep.results["N:c1"], ep.results["N:c8"]
        errors = c1["errors"] + c8["errors"]
        note = f"{c1['rps']:.0f} req/s at c=1, {c8['rps']:.0f} at c=8; p90 {c1['p90_ms']:.0f} ms"
        if errors:
            note += f"; {errors} errors"
        if ep.floor:
            out.append(Figure(s, f"{ep.name}: p50 c=1", c1["p50_ms"], "ms", note=note))
            out.append(Figure(s, f"{ep.name}: p99 c=8", c8["p99_ms"], "ms"))
            continue
        if ep.is_list:
            out.append(Figure(s, f"{ep.name}: p50 c=1", c1["p50_ms"], "ms", f"< {LIST_P50_MS}",
                              c1["p50_ms"] < LIST_P50_MS and not errors))  # fmt: skip
        if ep.p50_ms is not None:
            out.append(Figure(s, f"{ep.name}: p50 c=1", c1["p50_ms"], "ms", f"<= {ep.p50_ms}",
                              c1["p50_ms"] <= ep.p50_ms and not errors))  # fmt: skip
        out.append(Figure(s, f"{ep.name}: p99 c=1", c1["p99_ms"], "ms", f"< {P99_MS[1]}",
                          c1["p99_ms"] < P99_MS[1] and not errors, note))  # fmt: skip
        out.append(Figure(s, f"{ep.name}: p99 c=8", c8["p99_ms"], "ms", f"< {P99_MS[8]}",
                          c8["p99_ms"] < P99_MS[8] and not errors))  # fmt: skip
        if ep.first and ep.first in by_name:
            first = by_name[ep.first].results["N:c1"]["p50_ms"]
            ratio = c1["p50_ms"] / first
            out.append(Figure(s, f"{ep.name}: p50 / first page", ratio, "x",
                              f"<= {1 + DEEP_SLOWER:.2f}", ratio <= 1 + DEEP_SLOWER))  # fmt: skip
        q10 = queries[10].get(ep.name, {}).get("queries")
        q100 = queries[100].get(ep.name, {}).get("queries")
        if ep.is_list and q10 is not None:
            out.append(Figure(s, f"{ep.name}: queries at 10 / 100 per page", q100, "queries",
                              "same at 10 and 100", q10 == q100, f"{q10} at 10 per page"))  # fmt: skip
        if ep.scaled and "2N:c1" in ep.results:
            grown = ep.results["2N:c1"]["p50_ms"]
            change = grown / c1["p50_ms"] - 1
            out.append(Figure(s, f"{ep.name}: p50 change at 2x patches", 100 * change, "%",
                              f"< {GROWTH:.0%}", change < GROWTH,
                              f"{c1['p50_ms']:.1f} -> {grown:.1f} ms"))  # fmt: skip
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["queries"]:
        print(json.dumps(stage_queries(json.loads(sys.stdin.read()))))
        return 0
    print("usage: python -m bench.reads queries < paths.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
