"""What is known of a mail's Message-ID and references when it arrives: one query a mail
(LiveLookups), or a few a batch (BatchLookups)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import F, IntegerField, Value

from apps.mail import sql
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.mail.sql import ARRIVED, MEMBER
from apps.mail.tagging import (
    patch_tags_count_new,
    patch_tags_refresh,
    patches_tags_recount,
    series_tags_refresh,
)
from apps.patches.models import Patch
from apps.projects.models import Project
from apps.series.models import Series, SeriesReference
from apps.series.references import references_flush
from apps.series.services import Thread


def thread_lookup(
    project: Project, msgid: str, refs: list[str], *, fast: bool | None = None
) -> Thread:
    """The AwaitedMessage rows for msgid and refs, the series refs are in, and which refs
    arrived: one query (hand-written on PostgreSQL: apps/mail/sql.py)."""
    references_flush()
    if sql.fast_path() if fast is None else fast:
        rows = sql.thread_rows(project.pk, msgid, refs)
    else:
        rows = _thread_rows(project, msgid, refs)
    return _thread(project, rows)


def _thread(project: Project, rows: Iterable[tuple]) -> Thread:
    thread = Thread(awaited=[], members={}, arrived=set())
    for ref, kind, series_id, mail_id, position in rows:
        if kind == MEMBER:
            thread.members[ref] = series_id
        elif kind == ARRIVED:
            thread.arrived.add(ref)
        else:
            thread.awaited.append(
                AwaitedMessage(
                    project=project,
                    msgid=ref,
                    kind=kind,
                    series_id=series_id,
                    mail_id=mail_id,
                    position=position,
                )
            )
    return thread


def _thread_rows(project: Project, msgid: str, refs: list[str]):
    """The plain Django path of sql.thread_rows."""
    columns = ("row_msgid", "row_kind", "row_series", "row_mail", "row_position")
    awaited = AwaitedMessage.objects.filter(project=project, msgid__in=[msgid, *refs]).annotate(
        row_msgid=F("msgid"),
        row_kind=F("kind"),
        row_series=F("series_id"),
        row_mail=F("mail_id"),
        row_position=F("position"),
    )
    members = SeriesReference.objects.filter(project=project, msgid__in=refs).annotate(
        row_msgid=F("msgid"),
        row_kind=Value(MEMBER),
        row_series=F("series_id"),
        row_mail=Value(None, output_field=IntegerField()),
        row_position=Value(0),
    )
    arrived = IncomingMail.objects.filter(project=project, msgid__in=refs).annotate(
        row_msgid=F("msgid"),
        row_kind=Value(ARRIVED),
        row_series=Value(None, output_field=IntegerField()),
        row_mail=Value(None, output_field=IntegerField()),
        row_position=Value(0),
    )
    rows = awaited.order_by().values_list(*columns)
    if refs:
        rows = rows.union(
            members.order_by().values_list(*columns),
            arrived.order_by().values_list(*columns),
            all=True,
        )
    return rows


class LiveLookups:
    """Thread lookups one mail at a time: straight from the database, which the mail's own
    writes keep current, so there is nothing to note; a mail's row is written at once."""

    def lookup(self, project: Project, msgid: str, refs: list[str]) -> Thread:
        return thread_lookup(project, msgid, refs)

    def stored(self, project: Project, msgids: list[str]) -> set[str]:
        """Which of these Message-IDs are stored mail of the project."""
        found = IncomingMail.objects.filter(project=project, msgid__in=msgids)
        return set(found.values_list("msgid", flat=True))

    def insert(self, mail: IncomingMail) -> None:
        """Write a new mail's row (with its outcome)."""
        mail.save()

    def tags_new_patch(self, patch: Patch, series: Series, patterns: dict[int, str]) -> None:
        """Count a new patch's tags."""
        patch_tags_count_new(patch, series, patterns)

    def tags_patch(self, patch: Patch, patterns: dict[int, str], *, grown: bool = False) -> None:
        """Recount a patch's tags (grown: patch_tags_refresh's)."""
        patch_tags_refresh(patch=patch, patterns=patterns, grown=grown)

    def tags_series(self, series_id: int | None, patterns: dict[int, str]) -> None:
        """Recount the tags of a series' patches."""
        series_tags_refresh(series_id=series_id, patterns=patterns)

    def flush(self) -> None:
        pass

    def awaited_added(self, rows: Iterable[AwaitedMessage | SeriesReference]) -> None:
        pass

    def awaited_removed(
        self, *, project_id: int, msgid: str = "", kind: str, mail_id: int | None = None, keep=()
    ) -> None:
        pass

    def arrived(self, mail: IncomingMail) -> None:
        pass

    def reset(self) -> None:
        pass


# Mails an INSERT of a batch's new rows: the statement holds their raw bytes (escaped), so
# 200 at once raised parsearchive's peak memory by 21 MiB (`./dev bench --quick`).
INSERT_ROWS = 50

# (msgid, kind, series id, mail id, position): a row of sql.thread_rows.
Row = tuple[str, str, int | None, int | None, int]


class BatchLookups(LiveLookups):
    """The thread lookups of a batch's mails, read for all of them in three queries, and
    kept in step with what the batch's mails write (they note it here: `awaited_added`,
    `awaited_removed`, `arrived`), so a mail sees what the mails before it in the batch
    wrote, as it would one mail at a time.

    The new mails' rows wait (`insert`) and are written with one multi-row INSERT when
    the batch ends (`flush`, before its commit) or before a mail runs in a savepoint;
    nothing reads them back by id meanwhile (a mail that must be pointed at, one that
    waits for a reply's parent, is saved at once by reply_await), and the lookups count
    them as stored. The other writes go to the database at once; for them this is only a
    read cache of the batch's Message-IDs (`keys`). A lookup outside them, or after
    reset() (a savepoint that may have rolled back), reads the database again."""

    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = set(keys) - {""}
        self.loaded = False
        # (project id, msgid) -> {unique key -> row}: AwaitedMessage rows, deduplicated
        # by the table's unique constraints as ignore_conflicts does.
        self.awaited: dict[tuple[int, str], dict[tuple, Row]] = defaultdict(dict)
        self.members: dict[tuple[int, str], int] = {}
        self.in_project: set[tuple[int, str]] = set()
        self.unwritten: list[IncomingMail] = []
        # Patches (and series' patches) whose tags are recounted when the batch ends:
        # counts are a function of the stored mail, which nobody reads in a batch.
        self.recount: tuple[set[int], set[int]] = (set(), set())
        self.patterns: dict[int, str] = {}
        self.loads = 0

    def reset(self) -> None:
        self.loaded = False

    def _load(self) -> None:
        references_flush()
        self.awaited.clear()
        self.members.clear()
        self.in_project.clear()
        keys = list(self.keys)
        rows = AwaitedMessage.objects.filter(msgid__in=keys).values_list(
            "project_id", "msgid", "kind", "series_id", "mail_id", "position"
        )
        for project_id, *row in rows:
            self._add(project_id, tuple(row))  # type: ignore[arg-type]
        members = SeriesReference.objects.filter(msgid__in=keys)
        for project_id, msgid, series_id in members.values_list("project_id", "msgid", "series"):
            self.members[(project_id, msgid)] = series_id
        arrived = IncomingMail.objects.filter(msgid__in=keys, project__isnull=False)
        self.in_project.update(arrived.values_list("project_id", "msgid").distinct())
        self.in_project.update(self._unwritten_stored())
        self.loaded = True
        self.loads += 1

    def _add(self, project_id: int, row: Row) -> None:
        msgid, kind, series_id, mail_id, position = row
        # unique_awaited_reply (mail, msgid) and unique_awaited_series (kind, series,
        # msgid, position): what the database would refuse, ignore_conflicts skips.
        unique = ("mail", mail_id) if mail_id is not None else (kind, series_id, position)
        self.awaited[(project_id, msgid)].setdefault(unique, row)

    def _unwritten_stored(self) -> set[tuple[int, str]]:
        return {(m.project_id, m.msgid) for m in self.unwritten if m.project_id and m.msgid}

    def lookup(self, project: Project, msgid: str, refs: list[str]) -> Thread:
        if not self.keys.issuperset([msgid, *refs]):
            thread = thread_lookup(project, msgid, refs)
            thread.arrived |= self._stored_unwritten(project, refs)
            return thread
        if not self.loaded:
            self._load()
        pid = project.pk
        rows: list[tuple] = []
        for key in dict.fromkeys([msgid, *refs]):
            rows += self.awaited.get((pid, key), {}).values()
        rows += [
            (r, MEMBER, self.members[(pid, r)], None, 0) for r in refs if (pid, r) in self.members
        ]
        rows += [(r, ARRIVED, None, None, 0) for r in refs if (pid, r) in self.in_project]
        return _thread(project, rows)

    def awaited_added(self, rows: Iterable[AwaitedMessage | SeriesReference]) -> None:
        if not self.loaded:
            return
        for row in rows:
            if isinstance(row, SeriesReference):
                self.members[(row.project_id, row.msgid)] = row.series_id
            else:
                self._add(
                    row.project_id,
                    (row.msgid, row.kind, row.series_id, row.mail_id, row.position),
                )

    def awaited_removed(
        self, *, project_id: int, msgid: str = "", kind: str, mail_id: int | None = None, keep=()
    ) -> None:
        """Rows deleted: kind for (project, msgid), or kind of mail_id (but those at the
        positions in keep)."""
        if not self.loaded:
            return
        if mail_id is None:
            found = self.awaited.get((project_id, msgid), {})
            for unique in [u for u, row in found.items() if row[1] == kind]:
                del found[unique]
            return
        for found in self.awaited.values():
            unique = ("mail", mail_id)
            row = found.get(unique)
            if row is not None and row[1] == kind and row[4] not in keep:
                del found[unique]

    def arrived(self, mail: IncomingMail) -> None:
        if self.loaded and mail.project_id is not None and mail.msgid:
            self.in_project.add((mail.project_id, mail.msgid))

    def _stored_unwritten(self, project: Project, msgids: list[str]) -> set[str]:
        wanted = set(msgids)
        return {m for pid, m in self._unwritten_stored() if pid == project.pk and m in wanted}

    def stored(self, project: Project, msgids: list[str]) -> set[str]:
        return super().stored(project, msgids) | self._stored_unwritten(project, msgids)

    def insert(self, mail: IncomingMail) -> None:
        self.unwritten.append(mail)

    def tags_new_patch(self, patch: Patch, series: Series, patterns: dict[int, str]) -> None:
        self.tags_patch(patch, patterns)

    def tags_patch(self, patch: Patch, patterns: dict[int, str], *, grown: bool = False) -> None:
        self.recount[0].add(patch.pk)
        self.patterns = patterns

    def tags_series(self, series_id: int | None, patterns: dict[int, str]) -> None:
        if series_id is not None:
            self.recount[1].add(series_id)
            self.patterns = patterns

    def flush(self) -> None:
        """Write the rows of the mails that wait, in one INSERT, and recount the tags."""
        if self.unwritten:
            IncomingMail.objects.bulk_create(self.unwritten, batch_size=INSERT_ROWS)
            self.unwritten = []
        patch_ids, series_ids = self.recount
        if patch_ids or series_ids:
            patches_tags_recount(patch_ids=patch_ids, series_ids=series_ids, patterns=self.patterns)
            self.recount = (set(), set())
