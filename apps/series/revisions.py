"""Revision tracking: which series rerolls which, and superseding the older revision.

A series is a later revision of an earlier one from the same project and
submitter, with a lower version, when (strongest evidence first):

1. one of its mails answers a mail of the earlier series (``--in-reply-to``);
2. both carry the same ``change-id:`` trailer (b4 writes it in the cover letter);
3. both have the same name (the cover letter's, else the first patch's);
   for 2 and 3 the earlier one must also have been sent (dated) no later.

A reply is final, but a name or change-id match is weaker: the mail the reroll
answers, or a later send of the same name, may still be on its way. So a reroll
matched that way supersedes its previous revision only after
``SUPERSEDE_GRACE_MINUTES`` (``Series.supersede_due``, applied by the
``series.supersede_due`` periodic job); a better link found meanwhile replaces
the match, and nothing was superseded wrongly (tests/series/test_revision_order.py,
and the soak's shuffled parallel ingestion). Such a match is made again whenever
the name, date or change-id of either series changes (a cover letter or first
patch arriving names it anew).

A reroll sent in reply to *patches* of the earlier series (no cover letter) is
partial: it replaces only the patches with the same numbers, until its cover
letter arrives. Otherwise the whole earlier series is replaced. Lists deliver
out of order, so an earlier revision (or a patch of it) that arrives after its
successor is linked and superseded too: the result is the same in any order
(tests/series/test_revision_order.py).

When ``Project.auto_supersede`` is on, the replaced patches still in an
action-required state become Superseded through ``patches_state_set`` with no actor
(the system), so the usual ``patch-state-changed`` events are recorded and a
maintainer can set them back.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.events.services import events_batched
from apps.patches.models import Cover, Patch
from apps.patches.services import patches_state_set
from apps.projects.models import Project, State
from apps.series.models import AwaitedMessage, Series, SeriesReference
from apps.series.queue import range_diff_on_commit
from apps.series.references import references_flush
from apps.series.sql import fast_path, later_revision_rows

CHANGE_ID_RE = re.compile(r"^change-id:\s*(\S{1,255})\s*$", re.MULTILINE | re.IGNORECASE)
SUPERSEDED = "superseded"
# Names too generic to say two series are the same work.
GENERIC_NAMES = {"", "(no subject)"}


@dataclass
class Link:
    """A revision found for a series; whether the reroll is partial, and whether the
    evidence is a reply (final) rather than a name or change-id (settles after a grace)."""

    series: Series
    partial: bool
    by_reply: bool


def find_change_id(text: str) -> str:
    """The b4 ``change-id:`` trailer of a cover letter or patch ('' if none)."""
    match = CHANGE_ID_RE.search(text or "")
    return match.group(1) if match else ""


def _earlier(series: Series):
    return Series.objects.filter(
        project_id=series.project_id,
        submitter_id=series.submitter_id,
        version__lt=series.version,
    ).exclude(pk=series.pk)


def _is_patch_msgid(project_id: int, msgid: str) -> bool:
    return Patch.objects.filter(project_id=project_id, msgid=msgid).exists()


def revision_find_previous(*, series: Series, refs: list[str]) -> Link | None:
    """The earlier revision this series rerolls, if any."""
    if series.version < 2 and not series.change_id:
        return None
    earlier = _earlier(series)
    if refs:
        references_flush()
        members = dict(
            SeriesReference.objects.filter(
                project_id=series.project_id, msgid__in=refs, series__in=earlier
            ).values_list("msgid", "series_id")
        )
        for ref in reversed(refs):
            if ref in members:
                found = earlier.get(pk=members[ref])
                partial = series.cover_id is None and (
                    _is_patch_msgid(series.project_id, ref)
                    or (ref != refs[-1] and _waits_for_parent(series))
                )
                return Link(found, partial, by_reply=True)
    newest = ("-version", "-date", "-id")
    # Only what was sent before it: what merely arrived first must not decide (lists deliver
    # out of order, and the same name may come again later).
    sent_before = earlier.filter(date__lte=series.date)
    if series.change_id:
        found = sent_before.filter(change_id=series.change_id).order_by(*newest).first()
        if found:
            return Link(found, False, by_reply=False)
    if (series.name or "") not in GENERIC_NAMES:
        found = sent_before.filter(name=series.name).order_by(*newest).first()
        if found:
            return Link(found, False, by_reply=False)
    return None


def _find_later(
    series: Series, is_patch: bool, threaded: dict[int, int], *, fast: bool | None = None
) -> list[Link]:
    """Later revisions that arrived before this series and point at it (or at nothing better).

    threaded: the series with a mail sent in reply to this submission, each with the
    depth of that reply (0: In-Reply-To this submission). fast: by hand-written SQL
    (apps/series/sql.py), the default on PostgreSQL.
    """
    # Like revision_find_previous: by change-id or name, only what was sent after it.
    change_id = series.change_id or None
    name = series.name if (series.name or "") not in GENERIC_NAMES else None
    found: list[Series]
    answering: list[Series]  # later revisions in threaded already linked to another
    if not threaded and name is None and change_id is None:
        found, answering = [], []  # nothing could name a later revision
    elif fast_path() if fast is None else fast:
        found, answering = later_revision_rows(
            series, list(threaded), name=name, change_id=change_id
        )
    else:
        found = _later_plain(series, list(threaded), name=name, change_id=change_id)
        answering = _answering_plain(series, list(threaded))
    # A reply outranks a name or a change-id (revision_find_previous looks at the
    # references first): a later revision answering this series leaves a previous
    # revision it was matched to otherwise.
    known = {series.pk, *(s.pk for s in found)}
    found += [
        s
        for s in answering
        if s.pk not in known
        and (s.previous_revision_id is None or not _answers(s, s.previous_revision_id))
    ]
    return [
        Link(s, _answers_a_patch(s, is_patch, threaded), by_reply=s.pk in threaded) for s in found
    ]


def _later_plain(
    series: Series, threaded: list[int], *, name: str | None, change_id: str | None
) -> list[Series]:
    """The plain Django path of sql.later_revision_rows."""
    alike = Q()
    if change_id:
        alike |= Q(change_id=change_id)
    if name is not None:
        alike |= Q(name=name)
    evidence = Q(pk__in=threaded)
    if alike:
        evidence |= alike & Q(date__gte=series.date)
    later = (
        Series.objects.filter(
            evidence,
            project_id=series.project_id,
            submitter_id=series.submitter_id,
            version__gt=series.version,
        )
        .filter(
            Q(previous_revision=None)
            | Q(previous_revision__version__lt=series.version)
            # Linked by name or change-id to an older send of the same version: this is newer.
            | Q(
                ~Q(pk__in=threaded),
                previous_revision__version=series.version,
                previous_revision__date__lt=series.date,
                date__gte=series.date,
            )
        )
        .exclude(pk=series.pk)
    )
    return list(later)


def _answering_plain(series: Series, threaded: list[int]) -> list[Series]:
    """The plain Django path of sql.later_revision_rows' second list."""
    if not threaded:
        return []
    return list(
        Series.objects.filter(
            pk__in=threaded,
            project_id=series.project_id,
            submitter_id=series.submitter_id,
            version__gt=series.version,
        )
        .exclude(pk=series.pk)
        .exclude(previous_revision=None)
        .exclude(previous_revision=series)
    )


def _answers_a_patch(later: Series, is_patch: bool, threaded: dict[int, int]) -> bool:
    """Whether later, a reroll without a cover letter, was sent in reply to a patch.

    A reply deeper than In-Reply-To that went through a mail not here yet counts as
    one to a patch: under a cover letter that mail is one of its patches, and in
    order the reroll would have been linked through it, as partial.
    """
    if later.pk not in threaded or later.cover_id is not None:
        return False
    return is_patch or (threaded[later.pk] > 0 and _waits_for_parent(later))


def _answers(later: Series, earlier_id: int) -> bool:
    """Whether a mail of later was sent in reply to a mail of the earlier series."""
    references_flush()
    return AwaitedMessage.objects.filter(
        kind=AwaitedMessage.THREAD,
        series=later,
        msgid__in=SeriesReference.objects.filter(series_id=earlier_id).values("msgid"),
    ).exists()


def _supersede(older: Series, *, numbers: set[int] | None = None) -> int:
    """Make older's action-required patches (those numbered so, if given) Superseded."""
    state = State.objects.filter(slug=SUPERSEDED).first()
    if state is None:
        return 0
    patches = Patch.objects.filter(series=older, state__action_required=True).exclude(state=state)
    if numbers is not None:
        patches = patches.filter(number__in=numbers)
    return patches_state_set(patches=patches.only("pk"), state=state, actor=None)


def _link(later: Series, earlier: Series, link: Link, supersede: bool) -> None:
    """Make earlier the previous revision of later, and supersede it: now if later answers
    it, else once the grace period has passed (see the module's docstring)."""
    grace = dt.timedelta(minutes=settings.SUPERSEDE_GRACE_MINUTES)
    at_once = supersede and (link.by_reply or not grace)
    later.previous_revision = earlier
    later.supersede_due = None if at_once or not supersede else timezone.now() + grace
    later.save(update_fields=["previous_revision", "supersede_due"])
    if later.patches.count() >= later.total:
        # Linked after it completed (out of order): compute what changed now, as its
        # completion would have (apps/series/services.py).
        range_diff_on_commit(later.pk)
    if at_once:
        _supersede(earlier, numbers=_numbers(later) if link.partial else None)


def _rematch(later: Series, supersede: bool) -> None:
    """Match later by name or change-id again: what it was matched to changed its own."""
    link = revision_find_previous(series=later, refs=[])
    if link is None:
        later.previous_revision = None
        later.supersede_due = None
        later.save(update_fields=["previous_revision", "supersede_due"])
    elif link.series.pk != later.previous_revision_id:
        _link(later, link.series, link, supersede)


def revisions_supersede_due(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Supersede the previous revisions of the series matched by name or change-id whose
    grace period ended by now (all of them if now is None: nothing more is awaited, as
    after an archive import). Returns how many patches became Superseded."""
    due = Series.objects.filter(supersede_due__isnull=False)
    if now is not None:
        due = due.filter(supersede_due__lte=now)
    count = 0
    for series_id, project_id in due.order_by("supersede_due").values_list("pk", "project_id")[
        :limit
    ]:
        # One INSERT for the events of the series' patches, as a batch of mail writes them.
        with transaction.atomic(), events_batched():
            # Ingestion holds the project's lock while it links revisions.
            project = Project.objects.select_for_update(no_key=True).get(pk=project_id)
            series = Series.objects.filter(pk=series_id, supersede_due__isnull=False).first()
            due_at = None if series is None else series.supersede_due
            if series is None or due_at is None or (now is not None and due_at > now):
                continue  # relinked meanwhile
            if project.auto_supersede and series.previous_revision is not None:
                count += _supersede(series.previous_revision)
            series.supersede_due = None
            series.save(update_fields=["supersede_due"])
    return count


def _numbers(series: Series) -> set[int]:
    numbers = series.patches.exclude(number=None).values_list("number", flat=True)
    return {n for n in numbers if n is not None}


def revision_identity(series: Series) -> tuple:
    """What revision links depend on: when it is unchanged, so are the links to later ones."""
    return (series.name, series.submitter_id, series.change_id, series.version, series.date)


def revisions_track(
    *,
    series: Series,
    submission: Patch | Cover,
    refs: list[str],
    threaded: dict[int, int],
    before: tuple | None,
    has_later: bool,
) -> None:
    """A patch or cover letter joined series: link revisions both ways, supersede the older.

    series is current (this transaction placed the submission in it); threaded are the
    series with a mail sent in reply to the submission; before is the series'
    revision_identity() before this mail (None if it is new); has_later whether
    some series named it as previous revision before this mail.
    """
    project = series.project
    change_id = find_change_id(submission.content)
    if change_id and not series.change_id:
        series.change_id = change_id
        series.save(update_fields=["change_id"])
    supersede = project.auto_supersede
    is_patch = isinstance(submission, Patch)
    # A cover letter has no number: it re-sends the whole series.
    number = submission.number if isinstance(submission, Patch) else None

    identity_changed = before != revision_identity(series)
    if identity_changed:
        _rematch_on_new_identity(series, has_later, supersede)
    _link_previous(series, refs, is_patch, number, supersede)

    links: list[Link] = []
    if threaded or identity_changed:
        # Otherwise every later revision was already matched against this same identity.
        links = _find_later(series, is_patch, threaded)
    for link in links:
        _link(link.series, series, link, supersede)

    if supersede and is_patch and (has_later or links):
        _supersede_by_later(series, number)


def _rematch_on_new_identity(series: Series, has_later: bool, supersede: bool) -> None:
    """series' name, date or change-id just changed: match again what was matched by them."""
    if series.previous_revision_id is not None and not _answers(
        series, series.previous_revision_id
    ):
        # Matched by name or change-id under a name or date this mail just changed (its
        # cover letter or first patch arrived): match again, as if it had come in order.
        series.previous_revision = None
        series.supersede_due = None
        series.save(update_fields=["previous_revision", "supersede_due"])
    if has_later:
        # Later revisions matched by this series' old name or change-id: match them again.
        for later in series.next_revisions.all():
            if not _answers(later, series.pk):
                _rematch(later, supersede)


def _link_previous(
    series: Series, refs: list[str], is_patch: bool, number: int | None, supersede: bool
) -> None:
    """Find series' previous revision if it has none, else supersede what the new mail
    replaces in it."""
    if series.previous_revision_id is None:
        link = revision_find_previous(series=series, refs=refs)
        if link is not None:
            _link(series, link.series, link, supersede)
    elif supersede and series.supersede_due is None:  # else the grace's end supersedes
        previous = series.previous_revision
        if previous is None:
            return
        if not is_patch:
            # A reroll is whole once its cover letter is here: all of the previous one goes.
            _supersede(previous)
        elif series.cover_id is None and _is_partial(series, previous):
            # A partial reroll growing: each re-sent patch replaces its counterpart
            # (whatever it was sent in reply to: the result does not depend on the order).
            _supersede(previous, numbers={number} if number else set())


def _supersede_by_later(series: Series, number: int | None) -> None:
    """An older revision's patch arriving after the newer revision already did: a whole
    reroll replaces it, a partial one if it re-sent its number."""
    for later in series.next_revisions.all():
        if later.supersede_due is not None:
            continue  # the grace period's end supersedes all of this series
        if not _is_partial(later, series) or number in _numbers(later):
            _supersede(series, numbers={number} if number else set())
            break


def _is_partial(later: Series, earlier: Series) -> bool:
    """A reroll without a cover letter sent in reply to patches of the earlier revision
    replaces only the patches it re-sends."""
    if later.cover_id is not None:
        return False
    references_flush()
    rows = AwaitedMessage.objects.filter(kind=AwaitedMessage.THREAD, series=later)
    if rows.filter(msgid__in=Patch.objects.filter(series=earlier).values("msgid")).exists():
        return True
    # Answering the earlier revision through a mail not here yet: that is one of its patches
    # (see _answers_a_patch), until it arrives and says otherwise.
    deeper = rows.filter(
        position__gt=0, msgid__in=SeriesReference.objects.filter(series=earlier).values("msgid")
    )
    return deeper.exists() and _waits_for_parent(later)


def _waits_for_parent(series: Series) -> bool:
    """Whether a mail of series was sent in reply to a message that has not arrived."""
    # NOT EXISTS per row uses the (project, msgid) index; NOT IN would hash every reference.
    references_flush()
    known = SeriesReference.objects.filter(project_id=series.project_id, msgid=OuterRef("msgid"))
    return AwaitedMessage.objects.filter(
        ~Exists(known), kind=AwaitedMessage.THREAD, series=series, position=0
    ).exists()
