"""What each index on patches costs a patch inserted (and a patch updated), on PostgreSQL.

    python -m bench.index_cost [--patches 400] [--rounds 3] [--mbox PATH] [--only WORDS]

Realistic rows: the patches of the bench's archive (`bench.corpus`), parsed by the
ingestion parser, inserted one INSERT a patch, a hundred a transaction, into a fresh
migrated database (`BENCH_DB`_idx). Each variant drops one index (or swaps the search
document's expression index for the stored column); the cost of an index is the
variant's time per patch minus the time with every index. Variants alternate within
each round and the rounds repeat, so a machine that slows down slows them all; the
spread over the rounds is printed with the median. Then the same rows' state is
updated once each (what triage does), for the search document's forms.

The rows carry the diff's paths (`search_paths`) computed by Python in the timed loop, as
the model computes them (apps/patches/document.py); the variant "paths by the regexp"
inserts NULL instead, so PostgreSQL picks them from the diff with 0007's regexp: the
cost before migration 0008, measured in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench.common import DB_PREFIX, WORK, create_database, db_url, migrated_template

# The search document, as apps/patches/search.py and migration 0008 write it.
DOCUMENT = (
    "to_tsvector('simple'::regconfig, COALESCE(name, '') || ' ' || COALESCE(content, '') "
    "|| ' ' || COALESCE(search_paths, translate(regexp_replace(COALESCE(diff, ''), "
    "'^(?!diff --git ).*$', '', 'gn'), '/', ' ')))"
)
REGEXP = "paths by the regexp (search_paths NULL: before 0008)"
PER_TRANSACTION = 100
COLUMNS = (
    "msgid, date, headers, content, project_id, name, submitter_id, diff, pull_url, hash, "
    "state_id, archived, number, search_paths"
)


def patch_rows(mbox: Path, limit: int) -> list[tuple]:
    """(name, headers, content, diff, hash) of the archive's patches, as ingestion parses them."""
    import django

    django.setup()
    from apps.mail.archive import iter_mbox
    from apps.mail.parse import MailParseError, parse_mail

    rows = []
    for raw, _ in iter_mbox(mbox):
        try:
            parsed = parse_mail(raw)
        except MailParseError:
            continue
        if parsed.is_patch and parsed.diff:
            rows.append((parsed.subject.title[:255], parsed.headers, parsed.message, parsed.diff))
            rows[-1] += (parsed.hash,)
        if len(rows) >= limit:
            break
    return rows


def indexes(conn) -> dict[str, str]:
    """The secondary indexes on patches_patch: name -> definition."""
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'patches_patch' "
        "AND indexname NOT LIKE '%pkey'"
    ).fetchall()
    return dict(rows)


def stored_document(conn) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'patches_patch' "
            "AND column_name = 'search_document'"
        ).fetchone()
    )


def backend_cpu(conn) -> float:
    """CPU seconds the server process behind conn has used (0 if PostgreSQL runs elsewhere)."""
    pid = conn.info.backend_pid
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def insert_round(conn, rows: list[tuple], ids: dict, tag: str, paths: bool = True) -> float:
    """Insert every row once (fresh Message-IDs), with the diff's paths computed by Python
    (or NULL: computed by the document's regexp); seconds per patch."""
    from apps.patches.document import diff_search_text

    project, person, state = ids["project"], ids["person"], ids["state"]
    sql = (
        f"INSERT INTO patches_patch ({COLUMNS}) VALUES "
        "(%s, now(), %s, %s, %s, %s, %s, %s, NULL, %s, %s, false, 1, %s)"
    )
    started = time.perf_counter()
    for start in range(0, len(rows), PER_TRANSACTION):
        with conn.transaction():
            for i, (name, headers, content, diff, hash_) in enumerate(
                rows[start : start + PER_TRANSACTION], start
            ):
                conn.execute(
                    sql,
                    (
                        f"<{tag}-{i}@bench>",
                        headers,
                        content,
                        project,
                        name,
                        person,
                        diff,
                        hash_,
                        state,
                        diff_search_text(diff) if paths else None,
                    ),
                    prepare=True,
                )
    return (time.perf_counter() - started) / len(rows)


def update_round(conn, ids: dict) -> float:
    """Change the state of every patch once, one UPDATE each; seconds per patch."""
    pks = [r[0] for r in conn.execute("SELECT id FROM patches_patch ORDER BY id").fetchall()]
    started = time.perf_counter()
    for start in range(0, len(pks), PER_TRANSACTION):
        with conn.transaction():
            for pk in pks[start : start + PER_TRANSACTION]:
                conn.execute(
                    "UPDATE patches_patch SET state_id = %s WHERE id = %s",
                    (ids["other_state"], pk),
                    prepare=True,
                )
    return (time.perf_counter() - started) / len(pks)


def setup(conn) -> dict:
    """A project, a submitter and two states to point the rows at."""
    project = conn.execute(
        "INSERT INTO projects_project (linkname, name, listid, listemail, subject_match, "
        "web_url, scm_url, webscm_url, list_archive_url, list_archive_url_format, "
        "commit_url_format, send_notifications, use_tags, show_dependencies, "
        "auto_supersede, cover_trailers) VALUES ('idx', 'Idx', 'idx.example.org', "
        "'idx@example.org', '', '', '', '', '', '', '', false, true, false, true, true) "
        "RETURNING id"
    ).fetchone()[0]
    person = conn.execute(
        "INSERT INTO projects_person (email, name) VALUES ('ada@example.org', 'Ada') RETURNING id"
    ).fetchone()[0]
    states = [r[0] for r in conn.execute("SELECT id FROM projects_state ORDER BY id")]
    return {"project": project, "person": person, "state": states[0], "other_state": states[1]}


def variants(conn) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (statements that make the variant, statements that undo it)."""
    found = indexes(conn)
    out: dict[str, tuple[list[str], list[str]]] = {"all indexes": ([], []), REGEXP: ([], [])}
    for name, definition in sorted(found.items()):
        if name == "unique_patch_msgid":
            continue  # a constraint ingestion relies on, not a choice
        out[f"without {name}"] = ([f"DROP INDEX {name}"], [definition])
    secondary = [n for n in found if n != "unique_patch_msgid"]
    out["no secondary index"] = (
        [f"DROP INDEX {n}" for n in secondary],
        [found[n] for n in secondary],
    )
    if not stored_document(conn):
        out["stored document column (+ its GIN), no expression index"] = (
            [
                "DROP INDEX patch_fulltext_search",
                "ALTER TABLE patches_patch ADD COLUMN search_document tsvector "
                f"GENERATED ALWAYS AS ({DOCUMENT}) STORED",
                "CREATE INDEX patch_search_document ON patches_patch USING gin (search_document)",
            ],
            [
                "ALTER TABLE patches_patch DROP COLUMN search_document",
                found["patch_fulltext_search"],
            ],
        )
    return out


def main(argv: list[str] | None = None) -> int:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patches", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mbox", type=Path, default=WORK / "archive-400.mbox")
    parser.add_argument("--only", default="", help="variants whose name contains this (and all)")
    args = parser.parse_args(argv)

    rows = patch_rows(args.mbox, args.patches)
    database = f"{DB_PREFIX}_idx"
    create_database(database, migrated_template())
    results: dict[str, list[float]] = {}
    updates: dict[str, list[float]] = {}
    server: dict[str, list[float]] = {}  # the server process's CPU a patch inserted
    with psycopg.connect(db_url(database), autocommit=True) as conn:
        ids = setup(conn)
        # The commit's flush would swamp what the indexes cost.
        conn.execute("SET synchronous_commit = off")
        plan = {
            name: change
            for name, change in variants(conn).items()
            if name == "all indexes" or args.only in name
        }
        for round_ in range(args.rounds):
            for name, (make, undo) in plan.items():
                conn.execute("TRUNCATE patches_patch CASCADE")
                for statement in make:
                    conn.execute(statement)
                conn.execute("VACUUM ANALYZE patches_patch")
                tag = f"r{round_}-{len(results.get(name, []))}-{abs(hash(name))}"
                cpu = backend_cpu(conn)
                cost = insert_round(conn, rows, ids, tag, paths=name != REGEXP)
                results.setdefault(name, []).append(cost)
                server.setdefault(name, []).append((backend_cpu(conn) - cpu) / len(rows))
                if name in ("all indexes", REGEXP, *[k for k in plan if k.startswith("stored")]):
                    updates.setdefault(name, []).append(update_round(conn, ids))
                for statement in undo:
                    conn.execute(statement)
        backfills = backfill_rounds(conn, rows, ids, args.rounds)
    _print(results, updates, len(rows), args.rounds)
    print("\nThe server process's CPU a patch inserted (/proc; 0 if the server is remote):")
    for name, values in server.items():
        spread = f"{min(values) * 1e6:,.0f}–{max(values) * 1e6:,.0f}"
        print(f"| {name} | {statistics.median(values) * 1e6:,.0f} µs | {spread} |")
    print("\nFilling search_paths of existing patches (migration 0008), one UPDATE:")
    for name, values in backfills.items():
        spread = f"{min(values) * 1e6:,.0f}–{max(values) * 1e6:,.0f}"
        print(f"| {name} | {statistics.median(values) * 1e6:,.0f} µs a patch | {spread} |")
    return 0


def backfill_rounds(conn, rows: list[tuple], ids: dict, rounds: int) -> dict[str, list[float]]:
    """The migration's UPDATE of every patch's search_paths (the document dropped first, as
    the migration does), against the same text by 0007's regexp; seconds per patch."""
    import importlib

    migration = importlib.import_module("apps.patches.migrations.0008_patch_search_paths")
    regexp = (
        "UPDATE patches_patch SET search_paths = translate(regexp_replace(COALESCE(diff, ''), "
        "'^(?!diff --git ).*$', '', 'gn'), '/', ' ')"
    )
    conn.execute("TRUNCATE patches_patch CASCADE")
    insert_round(conn, rows, ids, "backfill")
    conn.execute("DROP INDEX patch_search_document")
    conn.execute("ALTER TABLE patches_patch DROP COLUMN search_document")
    out: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, sql in (("split and filter (0008)", migration.BACKFILL), ("regexp", regexp)):
            conn.execute("VACUUM patches_patch")
            started = time.perf_counter()
            conn.execute(sql)
            out.setdefault(name, []).append((time.perf_counter() - started) / len(rows))
    return out


def _print(results: dict, updates: dict, count: int, rounds: int) -> None:
    base = statistics.median(results["all indexes"])
    print(f"{count} patches, {rounds} rounds, one INSERT a patch, {PER_TRANSACTION} a transaction")
    print("| variant | µs a patch (median) | spread | vs all indexes |")
    print("|---|---:|---:|---:|")
    for name, values in results.items():
        median = statistics.median(values)
        spread = f"{min(values) * 1e6:,.0f}–{max(values) * 1e6:,.0f}"
        delta = "" if name == "all indexes" else f"{(median - base) * 1e6:+,.0f} µs"
        print(f"| {name} | {median * 1e6:,.0f} | {spread} | {delta} |")
    print("\nUPDATE of the state, one a patch:")
    for name, values in updates.items():
        spread = f"{min(values) * 1e6:,.0f}–{max(values) * 1e6:,.0f}"
        print(f"| {name} | {statistics.median(values) * 1e6:,.0f} µs | {spread} |")


if __name__ == "__main__":
    raise SystemExit(main())
