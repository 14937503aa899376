"""REST representations of patches, covers, comments and bundles, per API version.

Field order and presence follow the reference schemas
(``openapi/v1.0.yaml`` … ``v1.4.yaml``): a field appears from the version that
introduced it.
"""

from __future__ import annotations

from typing import Any

from apps.api.serializers.embedded import series_embedded
from apps.api.serializers.projects import (
    list_archive_url,
    person_embedded,
    project_embedded,
    user_embedded,
)
from apps.api.support import ApiContext, format_datetime
from apps.api.versions import COMMENT_ADDRESSED, LIST_ARCHIVE, PATCH_RELATED, WEB_LINKS
from apps.patches import links
from apps.patches.models import Bundle, Cover, CoverComment, Patch, PatchComment
from apps.patches.selectors import (
    PatchListExtras,
    bundle_patches_in_order,
    header_value,
    parse_headers,
    subject_prefixes,
)
from apps.projects.models import Project

# The REST collection of each kind of submission: /api/<v>/patches/, /api/<v>/covers/.
API_COLLECTION = {"patch": "patches", "cover": "covers"}


def _submission_head(obj: Patch | Cover, ctx: ApiContext, project: Project, kind: str):
    """id, url and web_url of a patch or cover."""
    data: dict[str, Any] = {"id": obj.id, "url": ctx.api_url(API_COLLECTION[kind], obj.id)}
    if ctx.since(WEB_LINKS):
        path = links.patch_path if kind == "patch" else links.cover_path
        data["web_url"] = ctx.site_url(path(project.linkname, obj.msgid))
    return data


def _msgid_and_archive(data: dict, obj, ctx: ApiContext, project: Project) -> None:
    data["msgid"] = obj.msgid
    if ctx.since(LIST_ARCHIVE):
        data["list_archive_url"] = list_archive_url(project, obj.msgid)


# --- patches ---------------------------------------------------------------------------


def patch_embedded(
    patch: Patch, ctx: ApiContext, *, project: Project | None = None
) -> dict[str, Any]:
    project = project or patch.project
    data = _submission_head(patch, ctx, project, "patch")
    _msgid_and_archive(data, patch, ctx, project)
    data.update(
        {
            "date": format_datetime(patch.date),
            "name": patch.name,
            "mbox": ctx.site_url(links.patch_mbox_path(project.linkname, patch.msgid)),
        }
    )
    return data


def patch_to_dict(
    patch: Patch, ctx: ApiContext, extras: PatchListExtras, *, detail: bool = False
) -> dict[str, Any]:
    """A patch: the summary shown in lists, or with ``detail`` the full representation."""
    project = patch.project
    data = _submission_head(patch, ctx, project, "patch")
    data["project"] = project_embedded(project, ctx)
    _msgid_and_archive(data, patch, ctx, project)
    data.update(
        {
            "date": format_datetime(patch.date),
            "name": patch.name,
            "commit_ref": patch.commit_ref,
            "pull_url": patch.pull_url,
            "state": patch.state.slug,
            "archived": patch.archived,
            "hash": patch.hash,
            "submitter": person_embedded(patch.submitter, ctx),
            "delegate": user_embedded(patch.delegate, ctx),
            "mbox": ctx.site_url(links.patch_mbox_path(project.linkname, patch.msgid)),
            "series": [series_embedded(s, ctx)] if (s := patch.series) is not None else [],
        }
    )
    if ctx.since(WEB_LINKS):
        data["comments"] = ctx.api_url("patches", patch.id, "comments")
    data["check"] = extras.check(patch)
    data["checks"] = ctx.api_url("patches", patch.id, "checks")
    data["tags"] = {name: str(count) for name, count in extras.tags.get(patch.pk, {}).items()}
    if ctx.since(PATCH_RELATED):
        data["related"] = [patch_embedded(p, ctx) for p in extras.related.get(patch.pk, [])]
    if detail:
        data["headers"] = parse_headers(patch.headers)
        data["content"] = patch.content
        data["diff"] = patch.diff
        data["prefixes"] = subject_prefixes(patch.name)
    return data


# --- covers ----------------------------------------------------------------------------


def cover_embedded(
    cover: Cover, ctx: ApiContext, *, project: Project | None = None
) -> dict[str, Any]:
    project = project or cover.project
    data = _submission_head(cover, ctx, project, "cover")
    _msgid_and_archive(data, cover, ctx, project)
    data.update(
        {
            "date": format_datetime(cover.date),
            "name": cover.name,
            "mbox": ctx.site_url(links.cover_mbox_path(project.linkname, cover.msgid)),
        }
    )
    return data


def _cover_series(cover: Cover):
    try:
        return cover.series
    except Cover.series.RelatedObjectDoesNotExist:
        return None


def cover_to_dict(cover: Cover, ctx: ApiContext, *, detail: bool = False) -> dict[str, Any]:
    project = cover.project
    data = _submission_head(cover, ctx, project, "cover")
    data["project"] = project_embedded(project, ctx)
    _msgid_and_archive(data, cover, ctx, project)
    data.update(
        {
            "date": format_datetime(cover.date),
            "name": cover.name,
            "submitter": person_embedded(cover.submitter, ctx),
        }
    )
    if ctx.since(WEB_LINKS):
        data["mbox"] = ctx.site_url(links.cover_mbox_path(project.linkname, cover.msgid))
    series = _cover_series(cover)
    data["series"] = [series_embedded(series, ctx)] if series else []
    if ctx.since(WEB_LINKS):
        data["comments"] = ctx.api_url("covers", cover.id, "comments")
    if detail:
        data["headers"] = parse_headers(cover.headers)
        data["content"] = cover.content
    return data


# --- comments --------------------------------------------------------------------------


def _comment_head(comment, ctx: ApiContext, parent_id: int, kind: str):
    data: dict[str, Any] = {"id": comment.id}
    if ctx.since(COMMENT_ADDRESSED):
        data["url"] = ctx.api_url(API_COLLECTION[kind], parent_id, "comments", comment.id)
    if ctx.since(WEB_LINKS):
        path = links.patch_comment_path if kind == "patch" else links.cover_comment_path
        data["web_url"] = ctx.site_url(path(comment.id))
    return data


def _comment_parent(comment) -> tuple[int, str]:
    if isinstance(comment, PatchComment):
        return comment.patch_id, "patch"
    return comment.cover_id, "cover"


def comment_embedded(
    comment: PatchComment | CoverComment, ctx: ApiContext, *, project: Project
) -> dict[str, Any]:
    parent_id, kind = _comment_parent(comment)
    data = _comment_head(comment, ctx, parent_id, kind)
    _msgid_and_archive(data, comment, ctx, project)
    data["date"] = format_datetime(comment.date)
    data["name"] = header_value(comment.headers, "Subject")
    return data


def comment_to_dict(
    comment: PatchComment | CoverComment, ctx: ApiContext, *, project: Project
) -> dict[str, Any]:
    parent_id, kind = _comment_parent(comment)
    data = _comment_head(comment, ctx, parent_id, kind)
    _msgid_and_archive(data, comment, ctx, project)
    data.update(
        {
            "date": format_datetime(comment.date),
            "subject": header_value(comment.headers, "Subject"),
            "submitter": person_embedded(comment.submitter, ctx),
            "content": comment.content,
            "headers": parse_headers(comment.headers),
        }
    )
    if ctx.since(COMMENT_ADDRESSED):
        data["addressed"] = comment.addressed
    return data


# --- bundles ---------------------------------------------------------------------------


def bundle_to_dict(bundle: Bundle, ctx: ApiContext) -> dict[str, Any]:
    """A bundle; its patches should be prefetched (``bundles_with_patches``)."""
    owner = bundle.owner
    data: dict[str, Any] = {"id": bundle.id, "url": ctx.api_url("bundles", bundle.id)}
    if ctx.since(WEB_LINKS):
        data["web_url"] = ctx.site_url(links.bundle_path(owner.username, bundle.name))
    data.update(
        {
            "project": project_embedded(bundle.project, ctx),
            "name": bundle.name,
            "owner": user_embedded(owner, ctx),
            "patches": [patch_embedded(p, ctx) for p in bundle_patches_in_order(bundle)],
            "public": bundle.public,
            "mbox": ctx.site_url(links.bundle_mbox_path(owner.username, bundle.name)),
        }
    )
    return data
