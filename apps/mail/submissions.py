"""Patches and cover letters from parsed mail, placed in their series, with their events."""

from __future__ import annotations

import datetime as dt

from apps.events.models import Event
from apps.events.services import event_record
from apps.mail.context import IngestContext
from apps.mail.models import AwaitedMessage
from apps.mail.parse import MailParseError, ParsedMail
from apps.patches.models import Cover, Patch
from apps.projects.models import Person, Project
from apps.series.dependencies import series_dependencies_add
from apps.series.revisions import revisions_track
from apps.series.services import (
    Placement,
    Thread,
    series_cover_added,
    series_patch_added,
    series_place,
)

MAX_NAME = 255


def submission_name(parsed: ParsedMail, project: Project) -> str:
    """The Patchwork name: "[v2,1/2] title", PATCH and the project's name dropped.

    A mail without a subject gets "" as in Patchwork (pages show a placeholder)."""
    name = parsed.subject.name(drop=(project.linkname,))
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"


def series_title(parsed: ParsedMail) -> str:
    return parsed.subject.title


def patch_create_from_mail(
    *,
    parsed: ParsedMail,
    project: Project,
    submitter: Person,
    date: dt.datetime,
    context: IngestContext,
    thread: Thread,
) -> Patch:
    """Create the patch, put it in its series, count its tags; records every event once."""
    subject = parsed.subject
    hints = context.hints_trusted(project, submitter)
    if parsed.pull_url and len(parsed.pull_url) > 255:
        raise MailParseError("pull request URL longer than 255 characters")
    placement = series_place(
        project=project,
        msgid=parsed.msgid,
        refs=parsed.refs,
        submitter=submitter,
        date=date,
        version=subject.version,
        number=subject.number,
        total=subject.total,
        name=series_title(parsed),
        thread=thread,
    )
    patch = Patch.objects.create(
        project=project,
        msgid=parsed.msgid,
        name=submission_name(parsed, project),
        date=date,
        headers=parsed.headers,
        content=parsed.message,
        diff=parsed.diff,
        pull_url=parsed.pull_url,
        hash=parsed.hash,
        submitter=submitter,
        # Hint headers only from the senders the project trusts (Project.hint_headers_from).
        state=context.state(parsed.state_name if hints else ""),
        delegate=context.delegate(project, parsed.delegate_email if hints else "", parsed.diff),
        series=placement.series,
        number=subject.number if subject.number is not None else 1,
    )
    event_record(category=Event.PATCH_CREATED, project=project, patch=patch)
    series_patch_added(
        placement=placement, patch=patch, refs=parsed.refs, title=series_title(parsed)
    )
    context.lookups.awaited_added(placement.registered)
    if project.use_tags and context.tag_patterns:
        context.lookups.tags_new_patch(patch, placement.series, context.tag_patterns)
    if parsed.depends_on:
        context.lookups.awaited_added(
            series_dependencies_add(series=placement.series, dependencies=parsed.depends_on)
        )
    _revisions_track(placement, patch, parsed, thread)
    return patch


def cover_create_from_mail(
    *,
    parsed: ParsedMail,
    project: Project,
    submitter: Person,
    date: dt.datetime,
    context: IngestContext,
    thread: Thread,
) -> Cover:
    """Create the cover letter and make it its series' cover; records its events."""
    subject = parsed.subject
    placement = series_place(
        project=project,
        msgid=parsed.msgid,
        refs=parsed.refs,
        submitter=submitter,
        date=date,
        version=subject.version,
        number=0,
        total=subject.total,
        name=series_title(parsed),
        is_cover=True,
        thread=thread,
    )
    cover = Cover.objects.create(
        project=project,
        msgid=parsed.msgid,
        name=submission_name(parsed, project),
        date=date,
        headers=parsed.headers,
        content=parsed.body,
        submitter=submitter,
    )
    event_record(category=Event.COVER_CREATED, project=project, cover=cover)
    series_cover_added(
        placement=placement,
        cover=cover,
        refs=parsed.refs,
        title=series_title(parsed),
        total=subject.total or 1,
    )
    context.lookups.awaited_added(placement.registered)
    if parsed.depends_on:
        context.lookups.awaited_added(
            series_dependencies_add(series=placement.series, dependencies=parsed.depends_on)
        )
    _revisions_track(placement, cover, parsed, thread)
    return cover


def _revisions_track(
    placement: Placement, submission: Patch | Cover, parsed: ParsedMail, thread: Thread
) -> None:
    # The series with a mail sent in reply to this one, and how deep that reply is.
    threaded: dict[int, int] = {}
    for a in thread.awaited:
        if a.kind == AwaitedMessage.THREAD and a.msgid == parsed.msgid and a.series_id:
            threaded[a.series_id] = min(threaded.get(a.series_id, a.position), a.position)
    revisions_track(
        series=placement.series,
        submission=submission,
        refs=parsed.refs,
        threaded=threaded,
        before=placement.before,
        has_later=placement.has_later,
    )
