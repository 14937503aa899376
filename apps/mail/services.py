"""Mail ingestion (intake is apps/mail/intake.py).

`mail_ingest` is the one transaction per mail: claim → parse → route → patch /
cover letter / comment, series, tags and events — all of it or nothing, with the
outcome written on the mail either way.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.utils import timezone

from apps.events.services import events_batched
from apps.mail.context import IngestContext, worker_context
from apps.mail.intake import mail_new
from apps.mail.locks import mail_claim
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.mail.parse import MailParseError, ParsedMail, parse_mail
from apps.mail.parse.route import choose_project
from apps.mail.replies import (
    comment_create,
    comment_describe,
    comment_find,
    comment_move,
    comment_submission,
    reply_await,
    reply_parent,
)
from apps.mail.results import Result
from apps.mail.submissions import cover_create_from_mail, patch_create_from_mail
from apps.patches.models import Cover, Patch
from apps.projects.models import Person, Project
from apps.series.dependencies import series_dependencies_arrived
from apps.series.models import Series
from apps.series.references import references_flush
from apps.series.services import Thread

log = logging.getLogger(__name__)

# Concurrent workers may collide (deadlock, unique race): the whole transaction is retried.
ATTEMPTS = 4


# What a parse worker made of a mail's bytes (apps/mail/parallel.py): None when the
# writer parses it itself.
Parsed = ParsedMail | MailParseError | None


def mail_ingest(
    mail: IncomingMail,
    *,
    context: IngestContext | None = None,
    parsed: Parsed = None,
    alone: bool = True,
) -> IncomingMail:
    """Ingest a stored mail in one transaction (unless another worker has); sets its outcome."""
    mail_ingest_pending(mail.pk, context=context, parsed=parsed, alone=alone)
    mail.refresh_from_db()
    return mail


def mail_ingest_pending(
    mail_id: int,
    *,
    context: IngestContext | None = None,
    parsed: Parsed = None,
    alone: bool = True,
):
    """Claim a stored mail if it is still pending and ingest it; None if it is not.

    alone=False: inside a batch's transaction (apps/mail/batch.py), with no transaction of
    its own; an exception rolls the whole batch back, which retries this mail alone."""
    context = context or worker_context()
    return _ingest(lambda: mail_claim(mail_id), context, parsed=parsed, alone=alone)


def mail_store_ingest(
    raw: bytes,
    *,
    list_id: str = "",
    context: IngestContext | None = None,
    parsed: Parsed = None,
    msgid: str | None = None,
    alone: bool = True,
) -> IncomingMail:
    """Store and ingest a mail in one transaction (archives: the archive is the durable copy,
    and nobody else can see the row before it is done). The row is written with its
    outcome (earlier only if a reply must wait for something). parsed, msgid: what a parse
    worker found already; alone: as for mail_ingest_pending."""

    def start() -> IncomingMail:
        mail = mail_new(raw, list_id=list_id, msgid=msgid)
        if mail.status != IncomingMail.PENDING:
            mail.save()
        return mail

    mail = _ingest(start, context, parsed=parsed, alone=alone)
    assert mail is not None  # start() always gives one
    return mail


def _ingest(
    start, context: IngestContext | None, *, parsed: Parsed = None, alone: bool = True
) -> IncomingMail | None:
    """One transaction: start() gives the mail (claimed or just stored), then parse and
    ingest it, events and its outcome included. When the mail fails, everything is rolled
    back and the outcome alone is written, in a transaction of its own.

    Not alone (a batch): no transaction of its own, and any exception goes up to the batch."""
    context = context or IngestContext()
    if not alone:
        return _ingest_in_batch(start, context, parsed)
    for attempt in range(1, ATTEMPTS + 1):
        mail = None
        try:
            try:
                with transaction.atomic(), events_batched():
                    mail = start()
                    if mail is None:
                        return None
                    if mail.status == IncomingMail.PENDING:
                        _finish(mail, _ingest_mail(mail, context, parsed), attempt=True)
                    return mail
            except Exception:
                context.people.clear()  # what this transaction changed on them is gone
                raise
        except IntegrityError as exc:
            # Delivered twice (the first copy is stored), or a race another worker won.
            duplicate, project = _duplicate_of(start, context)
            if duplicate:
                return _record(start, Result.ignored(duplicate), project=project)
            if attempt == ATTEMPTS:
                raise
            log.info("retrying after %s", exc)
        except (OperationalError, InterfaceError, transaction.TransactionManagementError) as exc:
            # The database, not the mail (deadlock, lost connection): start again or let
            # the task retry.
            if attempt == ATTEMPTS or not isinstance(exc, OperationalError):
                raise
            log.info("retrying after %s", exc)
        except Exception as exc:
            # The project it was for (if it got that far) stays on the failed mail.
            project = mail.project if mail is not None else None
            if isinstance(exc, MailParseError):
                reason = str(exc)
            elif isinstance(exc, DataError):
                reason = f"data the database refuses: {exc}".strip()
            else:  # a bug must not lose the mail: keep it, failed, for reingest
                log.exception("mail %s failed", mail.pk if mail is not None else "(new)")
                reason = f"internal error: {type(exc).__name__}: {exc}"
            return _record(start, Result.failed(reason), project=project)
    return None


def _ingest_in_batch(start, context: IngestContext, parsed: Parsed) -> IncomingMail | None:
    """_ingest inside a batch's transaction: a new mail's row waits for the batch's INSERT."""
    with events_batched():
        mail = start()
        if mail is not None and mail.status == IncomingMail.PENDING:
            result = _ingest_mail(mail, context, parsed)
            if mail.pk is None:  # nobody points at it (reply_await saves those)
                _finish(mail, result, attempt=True, save=False)
                context.lookups.insert(mail)
            else:
                _finish(mail, result, attempt=True)
            context.lookups.arrived(mail)
        return mail


def _record(start, result: Result, *, project: Project | None = None) -> IncomingMail | None:
    """Write only the outcome of a mail whose ingestion was rolled back."""
    with transaction.atomic():
        mail = start()
        if mail is not None and mail.status == IncomingMail.PENDING:
            mail.project = project
            _finish(mail, result, attempt=True)
        return mail


def _duplicate_of(start, context: IngestContext) -> tuple[str, Project | None]:
    """('duplicate: …', project) if the mail's Message-ID is already stored in its project."""
    with transaction.atomic():
        try:
            mail = start()
            parsed = parse_mail(bytes(mail.raw)) if mail is not None else None
        except MailParseError:
            parsed = None
        project = stored = None
        if parsed is not None:
            list_ids = [mail.list_id] if mail.list_id else parsed.list_ids
            project, _ = choose_project(context.projects, list_ids, parsed.raw_subject)
            stored = _stored_as(project, parsed.msgid) if project else ""
        transaction.set_rollback(True)  # only looking (start() may have stored or claimed)
    if not stored or parsed is None:
        return "", None
    return f"duplicate: {parsed.msgid} is already {stored}", project


def _ingest_mail(mail: IncomingMail, context: IngestContext, parsed: Parsed = None) -> Result:
    if parsed is None:
        try:
            parsed = parse_mail(bytes(mail.raw))
        except MailParseError as exc:
            parsed = exc
    if isinstance(parsed, MailParseError):
        return Result.failed(str(parsed))
    return _ingest_parsed(mail, parsed, context)


def _finish(
    mail: IncomingMail, result: Result, *, attempt: bool = False, save: bool = True
) -> None:
    mail.status = result.status
    mail.outcome = result.outcome[:255]
    mail.reason = result.reason
    mail.processed = timezone.now()
    fields = ["status", "outcome", "reason", "processed", "project"]
    if attempt:
        mail.attempts += 1
        fields.append("attempts")
    if save:
        mail.save(update_fields=None if mail.pk is None else fields)


def _stored_as(project: Project, msgid: str) -> str:
    """What a Message-ID is already stored as in a project ('' if nothing)."""
    patch = Patch.objects.filter(project=project, msgid=msgid).values_list("pk", flat=True).first()
    if patch:
        return f"patch {patch}"
    cover = Cover.objects.filter(project=project, msgid=msgid).values_list("pk", flat=True).first()
    if cover:
        return f"cover {cover}"
    comment = comment_find(project, msgid)
    return comment_describe(comment) if comment else ""


def _ingest_parsed(mail: IncomingMail, parsed: ParsedMail, context: IngestContext) -> Result:
    if parsed.hint == "ignore":
        return Result.ignored("X-Patchwork-Hint: ignore")
    project, why = _project_of(mail, parsed, context)
    if project is None:
        return Result.ignored(why)
    project = context.project_locked(project)
    mail.project = project

    subject = parsed.subject
    is_patch = parsed.is_patch and not (subject.is_reply and parsed.refs)
    is_cover = not is_patch and not subject.is_reply and subject.number == 0
    if not (is_patch or is_cover or parsed.refs):
        return Result.ignored("neither a patch, a cover letter nor a reply")

    date = parsed.date or mail.received
    submitter = context.person(email=parsed.email, name=parsed.name)
    thread = context.lookups.lookup(project, parsed.msgid, parsed.refs)
    if is_patch or is_cover:
        create = patch_create_from_mail if is_patch else cover_create_from_mail
        submission = create(
            parsed=parsed,
            project=project,
            submitter=submitter,
            date=date,
            context=context,
            thread=thread,
        )
        _arrived(project, parsed.msgid, thread.awaited, context, series=submission.series)
        kind = "patch" if is_patch else "cover"
        return Result.parsed(f"{kind} {submission.pk} in {project.linkname}: {submission.name}")
    return _ingest_reply(mail, parsed, project, thread, submitter, date, context)


def _project_of(
    mail: IncomingMail, parsed: ParsedMail, context: IngestContext
) -> tuple[Project | None, str]:
    """The project a mail goes to (by List-Id or subject), or None and why not."""
    list_ids = [mail.list_id] if mail.list_id else parsed.list_ids
    project, why = choose_project(context.projects, list_ids, parsed.raw_subject)
    if project is None and context.refresh_projects():
        # A worker's context may predate a project added since: look again.
        project, why = choose_project(context.projects, list_ids, parsed.raw_subject)
    return project, why


def _ingest_reply(
    mail: IncomingMail,
    parsed: ParsedMail,
    project: Project,
    thread: Thread,
    submitter: Person,
    date: datetime,
    context: IngestContext,
) -> Result:
    """A reply becomes a comment of what it answers; until that arrives, it waits."""
    # A comment stored before (delivered twice) violates its unique constraint below.
    parent = reply_parent(project, parsed.refs)
    reply_await(
        mail=mail,
        project=project,
        refs=parsed.refs,
        parent=parent,
        first=True,
        arrived=thread.arrived,
        lookups=context.lookups,
    )
    if parent is None:
        return Result.ignored(
            f"a reply to {parsed.refs[-1]}, which is not a known patch, cover letter or "
            "comment (yet): kept, it becomes a comment when that arrives"
        )
    comment = comment_create(
        parsed=parsed,
        parent=parent,
        submitter=submitter,
        date=date,
        patterns=context.tag_patterns,
        lookups=context.lookups,
    )
    _arrived(project, parsed.msgid, thread.awaited, context)
    return Result.parsed(comment_describe(comment))


def _arrived(
    project: Project,
    msgid: str,
    awaited: list[AwaitedMessage],
    context: IngestContext,
    *,
    series: Series | None = None,
) -> None:
    """A message others were waiting for exists now: place its waiting replies, link dependents."""
    if series is not None and any(
        a.kind == AwaitedMessage.DEPENDS and a.msgid == msgid for a in awaited
    ):
        series_dependencies_arrived(series=series, msgid=msgid)
        context.lookups.awaited_removed(
            project_id=project.pk, msgid=msgid, kind=AwaitedMessage.DEPENDS
        )
    waiting = [
        a.mail_id
        for a in awaited
        if a.kind == AwaitedMessage.REPLY and a.msgid == msgid and a.mail_id is not None
    ]
    seen: set[int] = set()
    while waiting:
        # Pending mails will place themselves (and another worker may hold them right now).
        mails = (
            IncomingMail.objects.filter(pk__in=set(waiting) - seen)
            .exclude(status=IncomingMail.PENDING)
            .order_by("received", "pk")
        )
        seen.update(waiting)
        waiting = []
        for waiting_mail in mails:
            placed = _place_waiting_reply(project, waiting_mail, context, arrived=msgid)
            if placed:
                references_flush()
                waiting += [
                    mail_id
                    for mail_id in AwaitedMessage.objects.filter(
                        project=project, kind=AwaitedMessage.REPLY, msgid=placed
                    ).values_list("mail_id", flat=True)
                    if mail_id is not None
                ]


def _place_waiting_reply(
    project: Project, mail: IncomingMail, context: IngestContext, *, arrived: str
) -> str:
    """(Re)place a reply that waited, now that `arrived` is here; returns its Message-ID
    if it changed place, else ''."""
    try:
        parsed = parse_mail(bytes(mail.raw))
    except MailParseError:
        return ""
    parent = reply_parent(project, parsed.refs)
    if parent is None:
        return ""
    # The mail that arrived has no project on its row until its transaction ends.
    reply_await(
        mail=mail,
        project=project,
        refs=parsed.refs,
        parent=parent,
        arrived={arrived, *context.lookups.stored(project, parsed.refs)},
        lookups=context.lookups,
    )
    current = comment_find(project, parsed.msgid)
    if current is not None and comment_submission(current) == parent.submission:
        if mail.status == IncomingMail.IGNORED:
            # Delivered twice while waiting: the other copy became the comment.
            mail.project = project
            _finish(
                mail,
                Result.ignored(f"duplicate: {parsed.msgid} is already {comment_describe(current)}"),
            )
            context.lookups.arrived(mail)
        return ""
    if current is not None:
        comment = comment_move(
            comment=current,
            parsed=parsed,
            parent=parent,
            patterns=context.tag_patterns,
            lookups=context.lookups,
        )
    else:
        submitter = context.person(email=parsed.email, name=parsed.name)
        comment = comment_create(
            parsed=parsed,
            parent=parent,
            submitter=submitter,
            date=parsed.date or mail.received,
            patterns=context.tag_patterns,
            lookups=context.lookups,
        )
    mail.project = project
    _finish(mail, Result.parsed(comment_describe(comment)))
    context.lookups.arrived(mail)
    return parsed.msgid


def mail_requeue(*, mail_ids: list[int] | None = None, failed: bool = False) -> int:
    """Put failed (or the given) mails back to pending, for re-ingestion after a fix."""
    qs = IncomingMail.objects.all()
    if mail_ids is not None:
        qs = qs.filter(pk__in=mail_ids)
    if failed:
        qs = qs.filter(status=IncomingMail.FAILED)
    with transaction.atomic():
        references_flush()
        # Ingested again from the start: what they waited for is worked out anew.
        AwaitedMessage.objects.filter(kind=AwaitedMessage.REPLY, mail__in=qs).delete()
        return qs.update(status=IncomingMail.PENDING, outcome="", reason="")
