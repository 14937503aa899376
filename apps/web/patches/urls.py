"""Patch, cover, comment, bundle and to-do pages.

Message-IDs may contain '/', so submission pages take the rest of the path; the
download routes (…/mbox/, …/raw/) are registered before these in apps/web/downloads/urls.py.
"""

from __future__ import annotations

from django.urls import path

from apps.web.patches import bundles, detail, todo
from apps.web.patches import list as patch_list

urlpatterns = [
    path("project/<slug:linkname>/list/", patch_list.patch_list, name="patch-list"),
    path(
        "project/<slug:linkname>/list/bulk/",
        patch_list.patch_list_bulk,
        name="patch-list-bulk",
    ),
    path("autocomplete/submitter/", patch_list.person_autocomplete, name="autocomplete-person"),
    path("autocomplete/delegate/", patch_list.delegate_autocomplete, name="autocomplete-delegate"),
    path("project/<slug:linkname>/patch/<path:msgid>/", detail.patch_detail, name="patch-detail"),
    path("project/<slug:linkname>/cover/<path:msgid>/", detail.cover_detail, name="cover-detail"),
    path("patch/<int:patch_id>/", detail.patch_by_id, name="patch-id-redirect"),
    path("cover/<int:cover_id>/", detail.cover_by_id, name="cover-id-redirect"),
    path("comment/<int:comment_id>/", detail.comment_redirect, name="comment-redirect"),
    path(
        "comment/cover/<int:comment_id>/",
        detail.cover_comment_redirect,
        name="cover-comment-redirect",
    ),
    path(
        "comment/<int:comment_id>/addressed/",
        detail.comment_addressed,
        name="comment-addressed",
    ),
    path(
        "comment/cover/<int:comment_id>/addressed/",
        detail.cover_comment_addressed,
        name="cover-comment-addressed",
    ),
    path("user/todo/", todo.todo_lists, name="user-todo"),
    path("user/todo/<slug:linkname>/", todo.todo_list, name="user-todo-project"),
    path("user/bundles/", bundles.bundle_list, name="user-bundles"),
    path("bundle/<str:username>/<str:name>/", bundles.bundle_detail, name="bundle-detail"),
]
