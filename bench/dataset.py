"""A large Patchwork database, written fast with COPY (no mail is ingested).

`build(database, patches=100_000)` fills a migrated database with several
projects of very different sizes, thousands of people, series (most with a
cover letter), patches whose diffs and commit messages come from real git
history, a realistic state mix (old patches mostly accepted, superseded or
archived; recent ones new or under review), delegates, comments with review
trailers, tag counts, CI checks and the event log all of that would have
written. `grow(database, patches)` adds as many again (older history), for
the 100k → 200k comparison. Special rows the read benchmark needs: a patch
with a 1,000-line diff and a series of 100 patches, both in the big project.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

import psycopg

from bench.common import db_url
from bench.corpus import DEFAULT_REPO, read_commits

# (linkname, share of the patches)
PROJECTS = [("linux", 0.55), ("netdev", 0.25), ("qemu", 0.12), ("patchwork", 0.08)]
BIG = "linux"
# State slug -> weight, for patches old enough to have been dealt with, and for recent ones.
OLD_STATES = {
    "accepted": 45,
    "superseded": 22,
    "changes-requested": 10,
    "rejected": 7,
    "not-applicable": 4,
    "deferred": 3,
    "awaiting-upstream": 2,
    "rfc": 2,
    "new": 5,
}
RECENT_STATES = {"new": 70, "under-review": 15, "changes-requested": 6, "accepted": 5, "rfc": 4}
RECENT_SHARE = 0.25
SPAN = dt.timedelta(days=3 * 365)
END = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SPECIAL_SERIES = 100
LONG_DIFF_LINES = 1000
CHECK_CONTEXTS = ["build", "checkpatch", "test-x86", "test-arm64", "sparse"]
CHECK_STATES = ["success"] * 7 + ["warning", "fail", "pending"]
TRAILERS = [(1, "Acked-by"), (2, "Reviewed-by"), (3, "Tested-by")]


@dataclass
class Texts:
    """Commit messages and diffs of real history, cut to realistic patch sizes."""

    subjects: list[str]
    bodies: list[str]
    diffs: list[str]
    long_diff: str

    @classmethod
    def from_repo(cls, rng: random.Random) -> Texts:
        commits = read_commits(DEFAULT_REPO, 500)
        subjects = [c.subject for c in commits]
        bodies = [c.body or "Tidy up." for c in commits]
        raw = [c.patch[c.patch.index("diff --git") :] for c in commits if "diff --git" in c.patch]
        diffs = []
        for text in raw:
            lines = text.split("\n")
            for _ in range(4):
                keep = min(len(lines), rng.randint(20, 160))
                diffs.append("\n".join(lines[:keep]) + "\n")
        long_lines: list[str] = []
        for text in raw:
            long_lines += text.split("\n")
            if len(long_lines) >= LONG_DIFF_LINES:
                break
        while len(long_lines) < LONG_DIFF_LINES:
            long_lines += long_lines[: LONG_DIFF_LINES - len(long_lines)]
        return cls(subjects, bodies, diffs, "\n".join(long_lines[:LONG_DIFF_LINES]) + "\n")


@dataclass
class Ids:
    """Next primary key per table (rows are written with explicit ids)."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


def _start_ids(conn: psycopg.Connection, tables: list[str]) -> Ids:
    ids = Ids()
    for table in tables:
        ids.next[table] = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[
            0
        ]
    return ids


TABLES = [
    "projects_project",
    "projects_user",
    "projects_person",
    "projects_project_maintainers",
    "series_series",
    "patches_cover",
    "patches_patch",
    "patches_patchcomment",
    "patches_patchtag",
    "checks_check",
    "events_event",
]

COLUMNS = {
    "series_series": "id, name, date, version, total, change_id, cover_id, previous_revision_id, "
    "project_id, submitter_id",
    "patches_cover": "id, msgid, date, headers, content, name, project_id, submitter_id",
    "patches_patch": "id, msgid, date, headers, content, name, diff, pull_url, commit_ref, hash, "
    "archived, number, delegate_id, project_id, series_id, state_id, submitter_id, related_id",
    "patches_patchcomment": "id, msgid, date, headers, content, addressed, patch_id, submitter_id",
    "patches_patchtag": "id, count, patch_id, tag_id",
    "checks_check": "id, date, state, target_url, description, context, patch_id, user_id",
    "events_event": "id, category, date, actor_id, cover_id, cover_comment_id, created_check_id, "
    "current_delegate_id, current_relation_id, current_state_id, patch_id, patch_comment_id, "
    "previous_delegate_id, previous_relation_id, previous_state_id, project_id, series_id",
}


def _headers(msgid: str, subject: str, who: tuple[int, str, str], date: dt.datetime, refs=()):
    lines = [
        f"From: {who[2]} <{who[1]}>",
        f"Subject: {subject}",
        f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        f"Message-Id: {msgid}",
    ]
    if refs:
        lines += [f"In-Reply-To: {refs[-1]}", "References: " + " ".join(refs)]
    lines += ["List-Id: <list.example.org>", "Content-Type: text/plain; charset=UTF-8"]
    return "\n".join(lines)


def _ensure_base(conn: psycopg.Connection, rng: random.Random, people: int) -> dict:
    """Projects, users (maintainers, CI), people: created once, reused by grow()."""
    existing = conn.execute("SELECT id, linkname FROM projects_project").fetchall()
    if not any(name == BIG for _, name in existing):
        _create_base(conn, rng, people)
    return {
        "projects": dict(conn.execute("SELECT linkname, id FROM projects_project").fetchall()),
        "users": [
            u
            for (u,) in conn.execute(
                "SELECT id FROM projects_user WHERE username LIKE 'maint%%' ORDER BY id"
            ).fetchall()
        ],
        "ci": conn.execute("SELECT id FROM projects_user WHERE username = 'ci-bot'").fetchone()[0],
        "people": conn.execute(
            "SELECT id, email, name FROM projects_person ORDER BY id"
        ).fetchall(),
        "states": dict(conn.execute("SELECT slug, id FROM projects_state").fetchall()),
    }


def _create_base(conn: psycopg.Connection, rng: random.Random, people: int) -> None:
    """The projects, 20 maintainers (4 picked for each project), a CI user, `people` people."""
    for linkname, _ in PROJECTS:
        conn.execute(
            "INSERT INTO projects_project (linkname, name, listid, listemail, subject_match, "
            "web_url, scm_url, webscm_url, list_archive_url, list_archive_url_format, "
            "commit_url_format, send_notifications, use_tags, show_dependencies, "
            "auto_supersede, cover_trailers) VALUES (%s, %s, %s, %s, '', '', '', '', '', "
            "'https://lore.example.org/r/{}', '', false, true, false, true, true)",
            (
                linkname,
                linkname.title(),
                f"{linkname}.lists.example.org",
                f"{linkname}@lists.example.org",
            ),
        )
    now = dt.datetime.now(dt.UTC)
    for i in range(20):
        conn.execute(
            "INSERT INTO projects_user (password, is_superuser, username, first_name, "
            "last_name, email, is_staff, is_active, date_joined, items_per_page, show_ids, "
            "send_email) VALUES ('!', false, %s, %s, 'Maintainer', %s, false, true, %s, 100, "
            "false, false)",
            (f"maint{i}", f"M{i}", f"maint{i}@example.org", now),
        )
    conn.execute(
        "INSERT INTO projects_user (password, is_superuser, username, first_name, last_name, "
        "email, is_staff, is_active, date_joined, items_per_page, show_ids, send_email) "
        "VALUES ('!', false, 'ci-bot', 'CI', 'Bot', 'ci@example.org', false, true, %s, 100, "
        "false, false)",
        (now,),
    )
    projects = conn.execute("SELECT id FROM projects_project ORDER BY id").fetchall()
    users = conn.execute("SELECT id FROM projects_user WHERE username LIKE 'maint%%'").fetchall()
    for (pid,) in projects:
        for (uid,) in rng.sample(users, 4):
            conn.execute(
                "INSERT INTO projects_project_maintainers (project_id, user_id) VALUES (%s, %s)",
                (pid, uid),
            )
    with conn.cursor().copy("COPY projects_person (email, name) FROM STDIN") as copy:
        for i in range(people):
            copy.write_row(
                (
                    f"dev{i}@{rng.choice(['example.org', 'example.com', 'corp.example'])}",
                    f"Developer {i}",
                )
            )


def _series_size(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.45:
        return 1
    if roll < 0.85:
        return rng.randint(2, 5)
    if roll < 0.97:
        return rng.randint(6, 12)
    return rng.randint(13, 30)


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _connect(database: str) -> psycopg.Connection:
    """A loading connection: foreign-key triggers off (the generator writes consistent rows)."""
    conn = psycopg.connect(db_url(database))
    conn.execute("SET session_replication_role = replica")
    return conn


def _fill(
    conn: psycopg.Connection,
    base: dict,
    patches: int,
    *,
    seed: int,
    start: dt.datetime,
    end: dt.datetime,
    special: bool,
) -> dict:
    """Write `patches` patches (and everything around them) dated between start and end."""
    filler = _Filler(conn, base, seed=seed, special=special)
    for linkname, share in PROJECTS:
        filler.project(linkname, int(patches * share), start, end)
    _flush(conn, filler.rows)
    for table in TABLES:
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    return filler.info


@dataclass
class _Series:
    """What the patches of one generated series share."""

    project: int
    id: int
    date: dt.datetime
    version: int
    size: int
    submitter: tuple  # (id, email, name)
    recent: bool
    # Message-IDs its next mail refers to.
    refs: list[str] = field(default_factory=list)


class _Filler:
    """_fill's state: one random source (the same seed gives the same rows, in the same
    order of draws), the next ids, the rows waiting for COPY, and `info`, the special rows
    the read benchmark looks for."""

    def __init__(self, conn: psycopg.Connection, base: dict, *, seed: int, special: bool):
        self.conn = conn
        self.base = base
        self.special = special
        self.rng = random.Random(seed)
        self.texts = Texts.from_repo(self.rng)
        self.ids = _start_ids(conn, TABLES)
        self.people = base["people"]
        self.person_weights = [1.0 / (i + 1) ** 0.8 for i in range(len(self.people))]
        self.rows: dict[str, list[tuple]] = {t: [] for t in COLUMNS}
        self.states = base["states"]
        self.info: dict = {}
        self.tag = hashlib.sha1(f"{seed}".encode()).hexdigest()[:8]

    def event(self, category: str, date: dt.datetime, project: int, **refs) -> None:
        row = {
            "actor_id": None, "cover_id": None, "cover_comment_id": None, "created_check_id": None,
            "current_delegate_id": None, "current_relation_id": None, "current_state_id": None,
            "patch_id": None, "patch_comment_id": None, "previous_delegate_id": None,
            "previous_relation_id": None, "previous_state_id": None, "series_id": None,
        }  # fmt: skip
        row.update(refs)
        self.rows["events_event"].append(
            (self.ids.take("events_event"), category, date, row["actor_id"], row["cover_id"],
             row["cover_comment_id"], row["created_check_id"], row["current_delegate_id"],
             row["current_relation_id"], row["current_state_id"], row["patch_id"],
             row["patch_comment_id"], row["previous_delegate_id"], row["previous_relation_id"],
             row["previous_state_id"], project, row["series_id"])
        )  # fmt: skip

    def project(self, linkname: str, count: int, start: dt.datetime, end: dt.datetime) -> None:
        """count patches of one project, in series, spread evenly from start to end."""
        project = self.base["projects"][linkname]
        made = 0
        seconds = (end - start).total_seconds()
        first_special = self.special and linkname == BIG
        # The 1,000-line diff goes to the first patch past a third of the big project.
        long_diff_after = count // 3 if self.special and linkname == BIG else None
        while made < count:
            size = min(_series_size(self.rng), count - made)
            if first_special and made >= count // 2:
                size, first_special = SPECIAL_SERIES, False
                self.info["series_100"] = self.ids.next["series_series"]
            frac = made / count
            date = start + dt.timedelta(seconds=seconds * frac + self.rng.uniform(0, 3600))
            series = self.series(project, date, size, recent=frac > 1 - RECENT_SHARE)
            for number in range(1, size + 1):
                long_diff = long_diff_after is not None and made > long_diff_after
                msgid = self.patch(series, number, long_diff=long_diff)
                if not series.refs or size == 1:
                    series.refs = [*series.refs, msgid] if number == 1 else series.refs
                made += 1
            if sum(len(r) for r in self.rows.values()) > 50_000:
                _flush(self.conn, self.rows)

    def series(self, project: int, date: dt.datetime, size: int, *, recent: bool) -> _Series:
        """A series row (and its cover letter, most of the time)."""
        rng = self.rng
        submitter = rng.choices(self.people, weights=self.person_weights)[0]
        version = rng.choices([1, 2, 3], weights=[75, 20, 5])[0]
        subject = rng.choice(self.texts.subjects)
        series = _Series(project, self.ids.take("series_series"), date, version, size, submitter,
                         recent)  # fmt: skip
        cover_id = None
        if size > 1 and rng.random() < 0.8:
            cover_id = self.ids.take("patches_cover")
            msgid = f"<{self.tag}.c{cover_id}@{submitter[1].split('@')[1]}>"
            name = f"[v{version},0/{size}] {subject}" if version > 1 else f"[0/{size}] {subject}"
            self.rows["patches_cover"].append(
                (cover_id, msgid, date, _headers(msgid, f"[PATCH {name}]", submitter, date),
                 f"This series {subject.lower()}.\n\n" + rng.choice(self.texts.bodies),
                 name[:255], project, submitter[0])
            )  # fmt: skip
            self.event("cover-created", date, project, cover_id=cover_id)
            series.refs = [msgid]
        self.rows["series_series"].append(
            (series.id, subject[:255], date, version, size, "", cover_id, None, project,
             submitter[0])
        )  # fmt: skip
        self.event("series-created", date, project, series_id=series.id)
        return series

    def patch(self, series: _Series, number: int, *, long_diff: bool) -> str:
        """Patch number of series, with its events, comments, tags and checks; its Message-ID."""
        rng, texts, st, submitter = self.rng, self.texts, self.states, series.submitter
        pid = self.ids.take("patches_patch")
        pdate = series.date + dt.timedelta(seconds=number)
        psubject = rng.choice(texts.subjects)
        prefix = ",".join(
            ([f"v{series.version}"] if series.version > 1 else [])
            + ([f"{number}/{series.size}"] if series.size > 1 else [])
        )
        name = (f"[{prefix}] " if prefix else "") + psubject
        msgid = f"<{self.tag}.p{pid}@{submitter[1].split('@')[1]}>"
        state = _weighted(rng, RECENT_STATES if series.recent else OLD_STATES)
        archived = not series.recent and state != "new" and rng.random() < 0.7
        delegate = rng.choice(self.base["users"]) if rng.random() < 0.3 else None
        diff = rng.choice(texts.diffs)
        if long_diff and "long_diff_patch" not in self.info:
            diff = texts.long_diff
            self.info["long_diff_patch"] = (pid, msgid)
        content = rng.choice(texts.bodies) + f"\n\nSigned-off-by: {submitter[2]} <{submitter[1]}>"
        self.rows["patches_patch"].append(
            (pid, msgid, pdate,
             _headers(msgid, f"[PATCH {name}]", submitter, pdate, series.refs),
             content, name[:255], diff, None,
             hashlib.sha1(f"c{pid}".encode()).hexdigest() if state == "accepted" else None,
             hashlib.sha1(diff.encode() + str(pid).encode()).hexdigest(), archived,
             number, delegate, series.project, series.id, st[state], submitter[0], None)
        )  # fmt: skip
        self.event("patch-created", pdate, series.project, patch_id=pid)
        if number == series.size:
            self.event("series-completed", pdate, series.project, series_id=series.id)
        if state != "new":
            self.event(
                "patch-state-changed", pdate + dt.timedelta(days=rng.uniform(1, 20)),
                series.project, patch_id=pid, previous_state_id=st["new"],
                current_state_id=st[state], actor_id=rng.choice(self.base["users"]),
            )  # fmt: skip
        self.comments(series, pid, pdate, psubject, name, msgid)
        self.checks(series.project, pid, pdate)
        return msgid

    def comments(
        self, series: _Series, pid: int, pdate: dt.datetime, psubject: str, name: str, msgid: str
    ) -> None:
        """Replies to a patch, some with review trailers (and the tag counts they make)."""
        rng, submitter = self.rng, series.submitter
        comments = rng.choices([0, 1, 2, 3, 4], weights=[50, 25, 13, 8, 4])[0]
        tags: dict[int, int] = {}
        for _ in range(comments):
            cid = self.ids.take("patches_patchcomment")
            who = rng.choices(self.people, weights=self.person_weights)[0]
            cdate = pdate + dt.timedelta(hours=rng.uniform(1, 72))
            cmsgid = f"<{self.tag}.m{cid}@{who[1].split('@')[1]}>"
            text = f"On {pdate:%Y-%m-%d}, {submitter[2]} wrote:\n> {psubject}\n\nLooks good.\n"
            if rng.random() < 0.5:
                tid, tname = rng.choice(TRAILERS)
                tags[tid] = tags.get(tid, 0) + 1
                text += f"\n{tname}: {who[2]} <{who[1]}>\n"
            self.rows["patches_patchcomment"].append(
                (cid, cmsgid, cdate,
                 _headers(cmsgid, f"Re: [PATCH {name}]", who, cdate, [*series.refs, msgid]),
                 text, None, pid, who[0])
            )  # fmt: skip
            self.event(
                "patch-comment-created", cdate, series.project, patch_id=pid, patch_comment_id=cid
            )
        for tid, n in tags.items():
            self.rows["patches_patchtag"].append((self.ids.take("patches_patchtag"), n, pid, tid))

    def checks(self, project: int, pid: int, pdate: dt.datetime) -> None:
        """CI results for some patches."""
        rng = self.rng
        if rng.random() < 0.4:
            for context in rng.sample(CHECK_CONTEXTS, rng.randint(1, 3)):
                chid = self.ids.take("checks_check")
                chdate = pdate + dt.timedelta(minutes=rng.uniform(5, 120))
                self.rows["checks_check"].append(
                    (chid, chdate, rng.choice(CHECK_STATES), f"https://ci.example.org/{chid}",
                     f"{context} done", context, pid, self.base["ci"])
                )  # fmt: skip
                self.event("check-created", chdate, project, patch_id=pid, created_check_id=chid)


_ORDER = ["series_series", "patches_cover", "patches_patch", "patches_patchcomment",
          "patches_patchtag", "checks_check", "events_event"]  # fmt: skip


def _flush(conn: psycopg.Connection, rows: dict[str, list[tuple]]) -> None:
    for table in _ORDER:
        if not rows[table]:
            continue
        with conn.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
            for row in rows[table]:
                copy.write_row(row)
        rows[table].clear()


def build(database: str, patches: int, *, seed: int = 7, people: int | None = None) -> dict:
    """Fill a migrated database with `patches` patches and what surrounds them."""
    with _connect(database) as conn:
        rng = random.Random(seed)
        base = _ensure_base(conn, rng, people or max(200, patches // 20))
        info = _fill(conn, base, patches, seed=seed, start=END - SPAN, end=END, special=True)
    vacuum(database)
    return info


def grow(database: str, patches: int, *, seed: int = 8) -> dict:
    """Add `patches` more patches, from the (older) history before what build() wrote."""
    with _connect(database) as conn:
        base = _ensure_base(conn, random.Random(seed), 0)
        info = _fill(
            conn, base, patches, seed=seed, start=END - 2 * SPAN, end=END - SPAN, special=False
        )
    vacuum(database)
    return info


def vacuum(database: str) -> None:
    """What autovacuum would do after a bulk load: statistics and the visibility map."""
    with psycopg.connect(db_url(database), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
