"""A canonical picture of everything ingestion produced, free of ids and arrival order.

Two ingestions of the same mail are equivalent iff their snapshots are equal.
"""

from __future__ import annotations

from collections import Counter

from apps.events.models import Event
from apps.mail.models import IncomingMail
from apps.patches.models import Cover, CoverComment, Patch, PatchComment, PatchTag
from apps.series.models import Series


def series_key(series: Series | None) -> tuple[str, ...] | None:
    """A series is known by its members' Message-IDs."""
    if series is None:
        return None
    members = [p.msgid for p in series.patches.all()]
    if series.cover_id:
        members.append(series.cover.msgid)
    return tuple(sorted(members))


def snapshot() -> dict:
    series = {}
    for s in Series.objects.select_related(
        "cover", "submitter", "previous_revision__cover"
    ).prefetch_related("patches", "dependencies"):
        series[series_key(s)] = {
            "name": s.name,
            "version": s.version,
            "total": s.total,
            "date": s.date,
            "submitter": s.submitter.email,
            "cover": s.cover.msgid if s.cover_id else None,
            "patches": sorted((p.number, p.msgid) for p in s.patches.all()),
            "dependencies": sorted(series_key(d) for d in s.dependencies.all()),
            "previous_revision": series_key(s.previous_revision),
        }
    tags = Counter()
    for pt in PatchTag.objects.select_related("patch", "tag"):
        tags[(pt.patch.msgid, pt.tag.name)] = pt.count
    patches = {
        p.msgid: {
            "name": p.name,
            "number": p.number,
            "series": series_key(p.series),
            "state": p.state.slug,
            "delegate": p.delegate.username if p.delegate_id else None,
            "hash": p.hash,
            "pull_url": p.pull_url,
            "submitter": p.submitter.email,
            "content": p.content,
            "diff": p.diff,
            "date": p.date,
        }
        for p in Patch.objects.select_related("series", "state", "delegate", "submitter")
    }
    covers = {c.msgid: (c.name, c.submitter.email, c.date) for c in Cover.objects.all()}
    comments = {
        c.msgid: ("patch", c.patch.msgid, c.submitter.email, c.content)
        for c in PatchComment.objects.select_related("patch", "submitter")
    }
    comments.update(
        {
            c.msgid: ("cover", c.cover.msgid, c.submitter.email, c.content)
            for c in CoverComment.objects.select_related("cover", "submitter")
        }
    )
    events = Counter()
    for e in Event.objects.select_related(
        "patch", "cover", "series", "patch_comment", "cover_comment"
    ):
        events[
            (
                e.category,
                e.patch.msgid if e.patch_id else None,
                e.cover.msgid if e.cover_id else None,
                series_key(e.series),
                e.patch_comment.msgid if e.patch_comment_id else None,
                e.cover_comment.msgid if e.cover_comment_id else None,
            )
        ] += 1
    mail = Counter(
        (m.msgid, m.status, m.outcome.split(" ")[0] if m.outcome else "")
        for m in IncomingMail.objects.all()
    )
    return {
        "series": series,
        "patches": patches,
        "covers": covers,
        "comments": comments,
        "tags": tags,
        "events": events,
        "mail": mail,
    }


def reset_ingested() -> None:
    """Forget everything mail produced (for comparing two orders in one test)."""
    for model in (Event, PatchTag, PatchComment, CoverComment, Patch, Series, Cover, IncomingMail):
        model.objects.all().delete()
    from apps.mail.models import AwaitedMessage
    from apps.series.models import SeriesReference

    AwaitedMessage.objects.all().delete()
    SeriesReference.objects.all().delete()


def snapshot_diff(got: dict, expected: dict) -> list[str]:
    """Readable differences between two snapshots (for assertion messages)."""
    lines = []
    for section in expected:
        a, b = got.get(section, {}), expected[section]
        for key in sorted(set(a) | set(b), key=repr):
            if a.get(key) != b.get(key):
                lines.append(f"{section} {key!r}: got {a.get(key)!r}, expected {b.get(key)!r}")
    return lines
