"""Writes on patches, comments and bundles; each records its events.

REST, XML-RPC, pages, admin actions and management commands all call these,
so a change raises the same events whoever makes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.accounts.models import User
from apps.events.models import Event
from apps.events.services import event_record
from apps.patches.models import (
    Bundle,
    BundlePatch,
    CoverComment,
    Patch,
    PatchComment,
    PatchRelation,
)
from apps.patches.notifications import notification_record
from apps.projects.models import State
from apps.projects.selectors import user_is_maintainer


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# --- permissions --------------------------------------------------------------


def patch_check_can_edit(user, patch: Patch) -> bool:
    """Maintainers, the patch's delegate and its submitter's own user may change it."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user_is_maintainer(user, patch.project):
        return True
    if patch.delegate_id == user.pk:
        return True
    return patch.submitter.user_id == user.pk


def comment_check_can_edit(user, comment: PatchComment | CoverComment) -> bool:
    """Maintainers and the comment's (or its submission's) submitter may mark it addressed."""
    if not getattr(user, "is_authenticated", False):
        return False
    submission = comment.patch if isinstance(comment, PatchComment) else comment.cover
    if user.is_superuser or user_is_maintainer(user, submission.project):
        return True
    return user.pk in (comment.submitter.user_id, submission.submitter.user_id)


# --- patches ----------------------------------------------------------------


@transaction.atomic
def patch_update(
    *,
    patch: Patch,
    actor: User | None,
    state: State | Any = UNSET,
    delegate: User | None | Any = UNSET,
    archived: bool | Any = UNSET,
    commit_ref: str | None | Any = UNSET,
    pull_url: str | None | Any = UNSET,
    related: Iterable[Patch] | Any = UNSET,
) -> Patch:
    """Change a patch's triage fields, recording state/delegate/relation events."""
    if related is not UNSET:
        related = list(related)
    _patch_update_check(patch, delegate=delegate, related=related)
    # Lock the patch row alone, then read it with its relations. A FOR UPDATE over joins
    # loses the row when a concurrent change to its state commits first: PostgreSQL
    # re-checks the join against the old state row and finds no match (DoesNotExist).
    Patch.objects.select_for_update().filter(pk=patch.pk).values_list("pk", flat=True).get()
    patch = Patch.objects.select_related("project", "state").get(pk=patch.pk)
    changed, events = _triage_changes(patch, state=state, delegate=delegate)
    for field, value in (
        ("archived", archived),
        ("commit_ref", commit_ref),
        ("pull_url", pull_url),
    ):
        if value is not UNSET and getattr(patch, field) != value:
            setattr(patch, field, value)
            changed.append(field)
    if changed:
        patch.save(update_fields=changed)
    for event in events:
        event_record(project=patch.project, actor=actor, patch=patch, **event)
    if related is not UNSET:
        patch_relation_set(patch=patch, related=related, actor=actor)
    return patch


def patches_state_set(*, patches: Iterable[Patch], state: State, actor: User | None) -> int:
    """patch_update(state=state) of each of these patches, in their order, with one lock,
    one read and one UPDATE for them all: the same events and notifications, in the same
    order. Those already in the state are left alone; returns how many changed."""
    ids = [patch.pk for patch in patches]
    if not ids:  # the common case when a revision is superseded: no savepoint for nothing
        return 0
    with transaction.atomic():
        return _patches_state_set(ids, state, actor)


def _patches_state_set(ids: list[int], state: State, actor: User | None) -> int:
    # As patch_update: lock the rows alone (in id order), then read them with relations.
    list(Patch.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
    found = Patch.objects.select_related("project", "state").in_bulk(ids)
    changed: list[tuple[Patch, list[dict]]] = []
    for patch in (found[pk] for pk in ids if pk in found):
        # patch_update's own rule for a state change: its event, its notification.
        fields, events = _triage_changes(patch, state=state, delegate=UNSET)
        if fields:
            changed.append((patch, events))
    Patch.objects.filter(pk__in=[patch.pk for patch, _ in changed]).update(state=state)
    for patch, events in changed:
        for event in events:
            event_record(project=patch.project, actor=actor, patch=patch, **event)
    return len(changed)


def _patch_update_check(patch: Patch, *, delegate: User | None | Any, related: Any) -> None:
    """ValidationError for a delegate who is no maintainer, or a patch related to itself."""
    errors: dict[str, list[str]] = {}
    if delegate is not UNSET and delegate is not None:
        if not user_is_maintainer(delegate, patch.project):
            errors["delegate"] = [
                f"User '{delegate.username}' is not a maintainer for project '{patch.project.name}'"
            ]
    if related is not UNSET and any(other.pk == patch.pk for other in related):
        errors["related"] = ["A patch cannot be related to itself"]
    if errors:
        raise ValidationError(errors)


def _triage_changes(
    patch: Patch, *, state: State | Any, delegate: User | None | Any
) -> tuple[list[str], list[dict]]:
    """Set a new state and delegate on the (locked) patch, unsaved: (the fields changed, the
    events to record). A state change also records its notification."""
    changed: list[str] = []
    events: list[dict] = []
    if state is not UNSET and state.pk != patch.state_id:
        events.append(
            {
                "category": Event.PATCH_STATE_CHANGED,
                "previous_state": patch.state,
                "current_state": state,
            }
        )
        notification_record(patch=patch, previous_state=patch.state, current_state=state)
        patch.state = state
        changed.append("state")
    if delegate is not UNSET and (delegate.pk if delegate else None) != patch.delegate_id:
        events.append(
            {
                "category": Event.PATCH_DELEGATED,
                "previous_delegate": patch.delegate,
                "current_delegate": delegate,
            }
        )
        patch.delegate = delegate
        changed.append("delegate")
    return changed, events


def patch_relation_set(*, patch: Patch, related: list[Patch], actor: User | None) -> None:
    """Make patch related to exactly these patches; an empty list takes it out of its relation."""
    touched = {patch.related} - {None}
    if not related:
        if patch.related_id:
            _relation_change(patch, None, actor)
    else:
        members = {p.pk: p for p in [patch, *related]}
        target = patch.related or PatchRelation.objects.create()
        for old_member in target.patches.exclude(pk__in=members):
            _relation_change(old_member, None, actor)
        for member in members.values():
            if member.related_id != target.pk:
                touched.add(member.related)
                _relation_change(member, target, actor)
    # A relation of one patch is no relation.
    for relation in [r for r in touched if r is not None]:
        rest = list(relation.patches.all())
        if len(rest) == 1:
            _relation_change(rest[0], None, actor)
        if len(rest) <= 1:
            relation.delete()


def _relation_change(patch: Patch, current: PatchRelation | None, actor) -> None:
    previous = patch.related
    Patch.objects.filter(pk=patch.pk).update(related=current)
    patch.related = current
    event_record(
        category=Event.PATCH_RELATION_CHANGED,
        project=patch.project,
        actor=actor,
        patch=patch,
        previous_relation=previous,
        current_relation=current,
    )


def comment_set_addressed(
    *, comment: PatchComment | CoverComment, addressed: bool | None
) -> PatchComment | CoverComment:
    """Mark a comment addressed or not."""
    comment.addressed = addressed
    comment.save(update_fields=["addressed"])
    return comment


# --- bundles -----------------------------------------------------------------


def bundle_check_can_edit(user, bundle: Bundle) -> bool:
    return getattr(user, "is_authenticated", False) and bundle.owner_id == user.pk


@transaction.atomic
def bundle_create(
    *, owner: User, name: str, project=None, patches: Iterable[Patch] = (), public: bool = False
) -> Bundle:
    """Create a bundle; its project is the given one or that of its first patch."""
    patches = list(patches)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["This field may not be blank."]
    elif len(name) > 50:
        errors["name"] = ["Ensure this field has no more than 50 characters."]
    elif "/" in name:
        errors["name"] = ["Bundle names can't contain slashes."]
    elif Bundle.objects.filter(owner=owner, name=name).exists():
        errors["name"] = ["A bundle called this already exists."]
    if project is None and not patches:
        errors.setdefault("patches", []).append("A bundle needs at least one patch.")
    if errors:
        raise ValidationError(errors)
    bundle = Bundle.objects.create(
        owner=owner, name=name, project=project or patches[0].project, public=public
    )
    bundle_add_patches(bundle=bundle, patches=patches)
    return bundle


@transaction.atomic
def bundle_update(
    *,
    bundle: Bundle,
    name: str | Any = UNSET,
    public: bool | Any = UNSET,
    patches: Iterable[Patch] | Any = UNSET,
) -> Bundle:
    """Rename, publish/unpublish, or replace the patches (in the given order) of a bundle."""
    changed = []
    if name is not UNSET:
        name = (name or "").strip()
        if not name or len(name) > 50 or "/" in name:
            raise ValidationError({"name": ["Enter a name of 1 to 50 characters, without '/'."]})
        if Bundle.objects.filter(owner=bundle.owner, name=name).exclude(pk=bundle.pk).exists():
            raise ValidationError({"name": ["A bundle called this already exists."]})
        bundle.name = name
        changed.append("name")
    if public is not UNSET:
        bundle.public = bool(public)
        changed.append("public")
    if changed:
        bundle.save(update_fields=changed)
    if patches is not UNSET:
        BundlePatch.objects.filter(bundle=bundle).delete()
        bundle_add_patches(bundle=bundle, patches=patches)
    return bundle


def bundle_add_patches(*, bundle: Bundle, patches: Iterable[Patch]) -> int:
    """Append patches not yet in the bundle, keeping the given order; returns how many."""
    present = set(bundle.bundlepatches.values_list("patch_id", flat=True))
    start = bundle.bundlepatches.aggregate(m=Max("order"))["m"] or 0
    rows = []
    for patch in patches:
        if patch.pk in present:
            continue
        present.add(patch.pk)
        start += 1
        rows.append(BundlePatch(bundle=bundle, patch=patch, order=start))
    BundlePatch.objects.bulk_create(rows)
    return len(rows)


def bundle_remove_patches(*, bundle: Bundle, patch_ids: Iterable[int]) -> int:
    deleted, _ = BundlePatch.objects.filter(bundle=bundle, patch_id__in=list(patch_ids)).delete()
    return deleted


@transaction.atomic
def bundle_reorder(*, bundle: Bundle, patch_ids: list[int]) -> None:
    """Put the bundle's patches in the given order (ids not listed keep their place after)."""
    rows = {bp.patch_id: bp for bp in bundle.bundlepatches.all()}
    ordered = [rows[pid] for pid in patch_ids if pid in rows]
    ordered += [
        bp for pid, bp in sorted(rows.items(), key=lambda i: i[1].order) if pid not in patch_ids
    ]
    for index, row in enumerate(ordered, start=1):
        row.order = index
    BundlePatch.objects.bulk_update(ordered, ["order"])


def bundle_delete(*, bundle: Bundle) -> None:
    bundle.delete()


def bundle_check_can_view(user, bundle: Bundle) -> bool:
    return bundle.public or bundle_check_can_edit(user, bundle)
