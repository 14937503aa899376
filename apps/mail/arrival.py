"""What is known of a mail's Message-ID and references when it arrives: one query."""

from __future__ import annotations

from django.db.models import F, IntegerField, Value

from apps.mail import sql
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.mail.sql import ARRIVED, MEMBER
from apps.projects.models import Project
from apps.series.models import SeriesReference
from apps.series.services import Thread


def thread_lookup(
    project: Project, msgid: str, refs: list[str], *, fast: bool | None = None
) -> Thread:
    """The AwaitedMessage rows for msgid and refs, the series refs are in, and which refs
    arrived: one query (hand-written on PostgreSQL: apps/mail/sql.py)."""
    if sql.fast_path() if fast is None else fast:
        rows = sql.thread_rows(project.pk, msgid, refs)
    else:
        rows = _thread_rows(project, msgid, refs)
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
