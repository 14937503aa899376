"""The harness's hands inside Django: set up, ingest, and look at one database.

Run as ``python -m soak.probe COMMAND …`` with DATABASE_URL (and REDIS_URL) of
the database to act on; every command prints one JSON document on stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.events.models import Event  # noqa: E402
from apps.mail.archive import iter_mbox  # noqa: E402
from apps.mail.intake import mail_store  # noqa: E402
from apps.mail.models import AwaitedMessage, IncomingMail  # noqa: E402
from apps.mail.services import mail_ingest  # noqa: E402
from apps.patches.models import Cover, CoverComment, Patch, PatchComment, PatchTag  # noqa: E402
from apps.projects.models import Person, Project, State  # noqa: E402
from apps.series.models import Series  # noqa: E402
from apps.series.revisions import revisions_supersede_due  # noqa: E402
from apps.webhooks.models import Delivery, Webhook  # noqa: E402

PASSWORD = "soak-password-1"
MAINTAINERS = ("soak-rest", "soak-xmlrpc", "soak-web")


def digest(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()[:16]


def setup(list_id: str, receiver_url: str) -> dict:
    """A project for the archive's list, three maintainers, two webhooks to the receiver."""
    from apps.accounts.services import api_token_regenerate
    from apps.webhooks.services import webhook_create

    linkname = list_id.split(".")[0]
    project, _ = Project.objects.get_or_create(
        linkname=linkname,
        defaults={"name": linkname.capitalize(), "listid": list_id, "listemail": f"x@{list_id}"},
    )
    users = {}
    for username in MAINTAINERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username, f"{username}@example.org", PASSWORD)
        project.maintainers.add(user)
        users[username] = {"id": user.pk, "token": api_token_regenerate(user=user)}
    owner = User.objects.get(username=MAINTAINERS[0])
    hooks = []
    for path in ("a", "b") if receiver_url != "-" else ():
        webhook, _secret = webhook_create(owner=owner, url=f"{receiver_url}/{path}")
        hooks.append(webhook.pk)
    return {"project": project.pk, "users": users, "webhooks": hooks, "password": PASSWORD}


def ingest_in_order(path: str) -> dict:
    """Store and ingest every message in archive order, one at a time: the reference run."""
    outcome = Counter()
    for raw, _ in iter_mbox(Path(path)):
        outcome[mail_ingest(mail_store(raw)).status] += 1
    return dict(outcome)


def store_shuffled(path: str, seed: str) -> list[int]:
    mails = [raw for raw, _ in iter_mbox(Path(path))]
    random.Random(int(seed)).shuffle(mails)
    return [mail_store(raw).pk for raw in mails]


def ingest_ids(path: str) -> dict:
    outcome = Counter()
    for pk in json.loads(Path(path).read_text()):
        outcome[mail_ingest(IncomingMail.objects.get(pk=pk)).status] += 1
    return dict(outcome)


def _series_key(series_id, members) -> str | None:
    return None if series_id is None else "|".join(sorted(members.get(series_id, [])))


def snapshot() -> dict:
    """Everything mail produced, free of ids and arrival order (two equal runs: equal)."""
    members = _series_members()
    mail = Counter()
    for msgid, status, outcome in IncomingMail.objects.values_list("msgid", "status", "outcome"):
        mail[f"{msgid} {status} {outcome.split(' ')[0] if outcome else ''}"] += 1
    tags = Counter()
    for msgid, tag, count in PatchTag.objects.values_list("patch__msgid", "tag__name", "count"):
        tags[f"{msgid} {tag}"] = count
    covers = {
        c.msgid: [c.name, c.submitter.email.lower(), c.date.isoformat(), digest(c.content)]
        for c in Cover.objects.select_related("submitter")
    }
    people = sorted(e.lower() for e in Person.objects.values_list("email", flat=True))
    return {
        "mail": mail,
        "patches": _patches(members),
        "covers": covers,
        "comments": _comments(),
        "series": _series(members),
        "tags": tags,
        "events": _events(members),
        "people": people,
    }


def _series_members() -> dict[int, list[str]]:
    """Series id -> the Message-IDs of its patches and cover letter (what names a series
    across runs)."""
    members: dict[int, list[str]] = {}
    for series_id, msgid in Patch.objects.values_list("series_id", "msgid"):
        members.setdefault(series_id, []).append(msgid)
    for series_id, msgid in Series.objects.filter(cover__isnull=False).values_list(
        "id", "cover__msgid"
    ):
        members.setdefault(series_id, []).append(msgid)
    return members


def _patches(members: dict[int, list[str]]) -> dict:
    patches = {}
    for p in Patch.objects.select_related("state", "delegate", "submitter"):
        patches[p.msgid] = [
            p.name,
            p.number,
            _series_key(p.series_id, members),
            p.state.slug,
            p.delegate.username if p.delegate_id else None,
            p.hash,
            p.pull_url,
            p.submitter.email.lower(),
            digest(p.content),
            digest(p.diff),
            p.date.isoformat(),
            p.archived,
            digest(p.headers),
        ]
    return patches


def _series(members: dict[int, list[str]]) -> dict:
    series = {}
    for s in Series.objects.select_related("cover", "submitter").prefetch_related("dependencies"):
        key = _series_key(s.pk, members)
        series[key] = [
            s.name,
            s.version,
            s.total,
            s.date.isoformat(),
            s.submitter.email.lower(),
            sorted(_series_key(d.pk, members) for d in s.dependencies.all()),
            _series_key(s.previous_revision_id, members),
        ]
    return series


def _comments() -> dict:
    comments = {}
    for c in PatchComment.objects.select_related("patch", "submitter"):
        comments[c.msgid] = ["patch", c.patch.msgid, c.submitter.email.lower(), digest(c.content)]
    for c in CoverComment.objects.select_related("cover", "submitter"):
        comments[c.msgid] = ["cover", c.cover.msgid, c.submitter.email.lower(), digest(c.content)]
    return comments


def _events(members: dict[int, list[str]]) -> Counter:
    events = Counter()
    for e in Event.objects.select_related(
        "patch", "cover", "patch_comment", "cover_comment", "current_state", "previous_state"
    ):
        key = [
            e.category,
            e.patch.msgid if e.patch_id else "",
            e.cover.msgid if e.cover_id else "",
            _series_key(e.series_id, members) or "",
            e.patch_comment.msgid if e.patch_comment_id else "",
            e.cover_comment.msgid if e.cover_comment_id else "",
            e.previous_state.slug if e.previous_state_id else "",
            e.current_state.slug if e.current_state_id else "",
        ]
        events[" ".join(key)] += 1
    return events


def status() -> dict:
    """What is still in flight: pending mail, deliveries not finished, revisions matched by
    name whose grace period is not over (beat supersedes them)."""
    deliveries = dict(Delivery.objects.values_list("status").annotate(n=Count("id")))
    mails = dict(IncomingMail.objects.values_list("status").annotate(n=Count("id")))
    supersedes = Series.objects.exclude(supersede_due=None).count()
    return {
        "mail": mails,
        "deliveries": deliveries,
        "supersedes_due": supersedes,
        "events": Event.objects.count(),
        "in_flight": mails.get(IncomingMail.PENDING, 0)
        + deliveries.get(Delivery.PENDING, 0)
        + deliveries.get(Delivery.RUNNING, 0)
        + supersedes,
    }


def grace_over() -> int:
    """What the periodic job does once the matches by name waited their grace period (the
    runs without beat): how many patches it superseded."""
    return revisions_supersede_due()


def deliveries() -> dict:
    """Per webhook: every event owed (one delivery each), and every delivery's fate."""
    hooks = {}
    for webhook in Webhook.objects.all():
        rows = list(
            Delivery.objects.filter(webhook=webhook).values_list(
                "event_id", "category", "status", "message_id", "attempts"
            )
        )
        per_event = Counter(event for event, category, *_ in rows if category != "ping")
        hooks[webhook.url] = {
            "active": webhook.active,
            "disabled_reason": webhook.disabled_reason,
            "deliveries": len(rows),
            "events_without_delivery": Event.objects.exclude(pk__in=[e for e in per_event]).count(),
            "events_with_several_deliveries": sum(1 for n in per_event.values() if n > 1),
            "status": dict(Counter(status for _, _, status, _, _ in rows)),
            "succeeded_ids": sorted(m for _, _, s, m, _ in rows if s == Delivery.SUCCEEDED),
            "retried": sum(1 for *_, attempts in rows if attempts > 1),
            "max_attempts": max((a for *_, a in rows), default=0),
        }
    return {"events": Event.objects.count(), "webhooks": hooks}


def leftovers() -> dict:
    """Things that should be empty or bounded once everything settled."""
    return {
        "awaited_replies_with_parsed_mail": AwaitedMessage.objects.filter(
            kind=AwaitedMessage.REPLY, mail__status=IncomingMail.PARSED
        ).count(),
        "mail_attempts_max": max(IncomingMail.objects.values_list("attempts", flat=True) or [0]),
    }


def state_history(patch_id: str) -> dict:
    """A patch's state now and its state-change events in order (the concurrency check)."""
    patch = Patch.objects.select_related("state").get(pk=int(patch_id))
    events = [
        {
            "actor": e.actor.username if e.actor_id else None,
            "previous": e.previous_state.slug if e.previous_state_id else None,
            "current": e.current_state.slug if e.current_state_id else None,
        }
        for e in Event.objects.filter(patch=patch, category=Event.PATCH_STATE_CHANGED)
        .select_related("actor", "previous_state", "current_state")
        .order_by("id")
    ]
    return {"state": patch.state.slug, "events": events}


def pick_patch() -> dict:
    patch = Patch.objects.order_by("id").first()
    return {
        "id": patch.pk,
        "url": f"/project/{patch.project.linkname}/patch/{patch.url_msgid}/",
        "states": {s.slug: s.pk for s in State.objects.all()},
    }


COMMANDS = {
    "setup": setup,
    "ingest-in-order": ingest_in_order,
    "store-shuffled": store_shuffled,
    "ingest-ids": ingest_ids,
    "snapshot": snapshot,
    "grace-over": grace_over,
    "status": status,
    "deliveries": deliveries,
    "leftovers": leftovers,
    "state-history": state_history,
    "pick-patch": pick_patch,
}


def main(argv: list[str]) -> None:
    result = COMMANDS[argv[0]](*argv[1:])
    sys.stdout.write(json.dumps(result, sort_keys=True, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
