"""A submission's whole thread as public-inbox serves it, for b4 (``b4 am``, ``b4 shazam``).

b4 fetches a thread from ``<midmask base>/<Message-ID>/t.mbox.gz`` and one message
from ``…/<Message-ID>/raw``; with ``b4.midmask`` set to
``<site>/project/<linkname>/thread/%s`` it reads them from Patchwork. The thread of
a patch, cover letter or comment is its series: cover letter, patches and every
reply to them, as the series mbox renders them.
"""

from __future__ import annotations

from django.db.models import Q

from apps.patches.mbox import comment_to_mbox, cover_to_mbox, patches_mbox_chunks
from apps.patches.models import Cover, CoverComment, Patch, PatchComment
from apps.projects.models import Project


def message_find(project: Project, msgid: str):
    """The patch, cover letter or comment with this Message-ID in the project, or None."""
    for model, where in (
        (Patch, Q(project=project)),
        (Cover, Q(project=project)),
        (PatchComment, Q(patch__project=project)),
        (CoverComment, Q(cover__project=project)),
    ):
        found = model.objects.filter(where, msgid=msgid).select_related("submitter").first()
        if found is not None:
            return found
    return None


def message_mbox(project: Project, msgid: str) -> str | None:
    """One message, as an mbox of one (None if the project has no such message)."""
    found = message_find(project, msgid)
    if found is None:
        return None
    if isinstance(found, Patch):
        return "".join(patches_mbox_chunks([found.pk]))
    if isinstance(found, Cover):
        return cover_to_mbox(found)
    return comment_to_mbox(found)


def thread_mbox(project: Project, msgid: str) -> str | None:
    """The thread a message belongs to, as an mbox (None if there is no such message)."""
    found = message_find(project, msgid)
    if found is None:
        return None
    if isinstance(found, PatchComment):
        found = found.patch
    elif isinstance(found, CoverComment):
        found = found.cover
    # A patch's series may be None; a cover letter without a series has none at all.
    series = getattr(found, "series", None)
    if series is not None:
        patch_ids = list(
            series.patches.order_by("number", "date", "id").values_list("pk", flat=True)
        )
        cover = series.cover
    else:
        patch_ids = [found.pk] if isinstance(found, Patch) else []
        cover = found if isinstance(found, Cover) else None
    messages = []
    if cover is not None:
        messages.append(cover_to_mbox(cover))
        replies = CoverComment.objects.filter(cover=cover).select_related("submitter")
        messages += [comment_to_mbox(c) for c in replies.order_by("date", "id")]
    messages += ["".join(patches_mbox_chunks(patch_ids))] if patch_ids else []
    patch_replies = PatchComment.objects.filter(patch_id__in=patch_ids).select_related("submitter")
    messages += [comment_to_mbox(c) for c in patch_replies.order_by("date", "id")]
    return "\n".join(messages)
