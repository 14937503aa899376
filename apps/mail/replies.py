"""Comments: replies to patches and cover letters, including replies that arrive first.

A reply belongs to the nearest patch or cover letter among the messages it
references (its References, In-Reply-To last); when it references none, to the
submission of the nearest comment it references. A reply whose parents are not
known yet waits for them (AwaitedMessage, kind REPLY); so does a reply attached
through a farther message, for the nearer ones. When one of them arrives the
reply is placed again, so the result does not depend on delivery order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apps.events.models import Event
from apps.events.services import event_record, events_flush
from apps.mail import sql
from apps.mail.arrival import LiveLookups
from apps.mail.models import AwaitedMessage, IncomingMail
from apps.mail.parse import ParsedMail
from apps.mail.parse.tags import find_trailers
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Person, Project
from apps.series.models import Series
from apps.series.references import references_add, references_flush

# References a waiting reply keeps: the thread root and the nearest ones.
MAX_AWAITED = 20


@dataclass
class Parent:
    """Where a reply goes: the submission, and through which reference it was found."""

    submission: Patch | Cover
    position: int
    via_comment: bool


def reply_parent(project: Project, refs: list[str], *, fast: bool | None = None) -> Parent | None:
    """The submission a reply with these references belongs to, if it is known.

    fast: the patches and cover letters read by hand-written SQL in one round trip
    (apps/mail/sql.py), the default on PostgreSQL."""
    if not refs:
        return None
    found: dict[str, Patch | Cover]
    covers: Iterable[Cover]
    if sql.fast_path() if fast is None else fast:
        patches, covers = sql.submissions_named(project.pk, refs)
        found = {p.msgid: p for p in patches}
    else:
        found = {p.msgid: p for p in Patch.objects.filter(project=project, msgid__in=refs)}
        covers = [] if refs[-1] in found else Cover.objects.filter(project=project, msgid__in=refs)
    if refs[-1] not in found:  # a cover letter can only be the parent if no patch is nearer
        found.update({c.msgid: c for c in covers})
    for position in range(len(refs) - 1, -1, -1):
        if refs[position] in found:
            submission = found[refs[position]]
            submission.project = project
            return Parent(submission, position, False)
    via: dict[str, Patch | Cover] = {
        c.msgid: c.patch
        for c in PatchComment.objects.filter(patch__project=project, msgid__in=refs).select_related(
            "patch__project"
        )
    }
    via.update(
        {
            c.msgid: c.cover
            for c in CoverComment.objects.filter(
                cover__project=project, msgid__in=refs
            ).select_related("cover__project")
        }
    )
    for position in range(len(refs) - 1, -1, -1):
        if refs[position] in via:
            return Parent(via[refs[position]], position, True)
    return None


def reply_await(
    *,
    mail: IncomingMail,
    project: Project,
    refs: list[str],
    parent: Parent | None,
    first: bool = False,
    arrived: set[str] | None = None,
    lookups: LiveLookups,
):
    """Wait for the references nearer than the parent found (all of them if none was).

    With a patch or cover letter as parent, only messages that have not arrived can
    change it (one that arrived and is no submission never becomes one). first: the
    mail is being ingested from pending, so it waits for nothing yet (mail_requeue
    clears what a mail waited for). arrived: which refs are stored mail, if known.
    lookups: told what changed (a batch's lookups).
    """
    start = -1 if parent is None else parent.position - (1 if parent.via_comment else 0)
    positions = [i for i in range(len(refs)) if i > start]
    if len(positions) > MAX_AWAITED:
        positions = [positions[0], *positions[-(MAX_AWAITED - 1) :]]
    if parent is not None and not parent.via_comment and positions:
        if arrived is None:
            arrived = set(
                IncomingMail.objects.filter(
                    project=project, msgid__in=[refs[i] for i in positions]
                ).values_list("msgid", flat=True)
            )
        positions = [i for i in positions if refs[i] not in arrived]
    if not first:
        references_flush()
        AwaitedMessage.objects.filter(mail=mail, kind=AwaitedMessage.REPLY).exclude(
            position__in=positions
        ).delete()
        lookups.awaited_removed(
            project_id=project.pk, kind=AwaitedMessage.REPLY, mail_id=mail.pk, keep=positions
        )
    if positions:
        if mail.pk is None:  # stored with its outcome at the end (mail_store_ingest): now
            mail.save()
        rows = [
            AwaitedMessage(
                project=project, msgid=refs[i], kind=AwaitedMessage.REPLY, mail=mail, position=i
            )
            for i in positions
        ]
        references_add(rows)
        lookups.awaited_added(rows)


def comment_create(
    *,
    parsed: ParsedMail,
    parent: Parent,
    submitter: Person,
    date,
    patterns: dict[int, str],
    lookups: LiveLookups,
) -> PatchComment | CoverComment:
    """Store the reply as a comment on its parent and record the event (and tags)."""
    submission = parent.submission
    fields = {
        "msgid": parsed.msgid,
        "date": date,
        "headers": parsed.headers,
        "content": parsed.body,
        "submitter": submitter,
        # As Patchwork: the header asks for action (unaddressed); without it, no opinion.
        "addressed": False if parsed.action_required else None,
    }
    comment: PatchComment | CoverComment
    if isinstance(submission, Patch):
        comment = PatchComment.objects.create(patch=submission, **fields)
        event_record(
            category=Event.PATCH_COMMENT_CREATED,
            project=submission.project,
            patch=submission,
            patch_comment=comment,
        )
        if submission.project.use_tags and find_trailers(comment.content, patterns):
            lookups.tags_patch(submission, patterns, grown=True)
    else:
        comment = CoverComment.objects.create(cover=submission, **fields)
        event_record(
            category=Event.COVER_COMMENT_CREATED,
            project=submission.project,
            cover=submission,
            cover_comment=comment,
        )
        project = submission.project
        if project.use_tags and project.cover_trailers and find_trailers(comment.content, patterns):
            lookups.tags_series(_cover_series_id(submission), patterns)
    return comment


def _cover_series_id(cover: Cover) -> int | None:
    return Series.objects.filter(cover=cover).values_list("pk", flat=True).first()


def comment_find(project: Project, msgid: str) -> PatchComment | CoverComment | None:
    return (
        PatchComment.objects.filter(patch__project=project, msgid=msgid)
        .select_related("patch__project")
        .first()
        or CoverComment.objects.filter(cover__project=project, msgid=msgid)
        .select_related("cover__project")
        .first()
    )


def comment_submission(comment: PatchComment | CoverComment) -> Patch | Cover:
    return comment.patch if isinstance(comment, PatchComment) else comment.cover


def comment_describe(comment: PatchComment | CoverComment) -> str:
    submission = comment_submission(comment)
    kind = "patch" if isinstance(comment, PatchComment) else "cover"
    return f"comment {comment.pk} on {kind} {submission.pk} in {submission.project.linkname}"


def comment_move(
    *,
    comment: PatchComment | CoverComment,
    parsed: ParsedMail,
    parent: Parent,
    patterns: dict[int, str],
    lookups: LiveLookups,
) -> PatchComment | CoverComment:
    """Re-attach a comment to a nearer parent that arrived after it (its events go with it)."""
    old = comment_submission(comment)
    submitter, date = comment.submitter, comment.date
    events_flush()  # its events, if a batch still holds them, go with it
    comment.delete()
    if isinstance(old, Patch) and old.project.use_tags:
        lookups.tags_patch(old, patterns)
    elif isinstance(old, Cover) and old.project.use_tags and old.project.cover_trailers:
        lookups.tags_series(_cover_series_id(old), patterns)
    return comment_create(
        parsed=parsed,
        parent=parent,
        submitter=submitter,
        date=date,
        patterns=patterns,
        lookups=lookups,
    )
