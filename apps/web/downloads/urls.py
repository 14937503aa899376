"""Download routes; included before the pages because a Message-ID may contain '/'."""

from __future__ import annotations

from django.urls import path

from apps.web.downloads import views as downloads

urlpatterns = [
    path(
        "project/<slug:linkname>/patch/<path:msgid>/mbox/",
        downloads.patch_mbox,
        name="patch-mbox",
    ),
    path(
        "project/<slug:linkname>/patch/<path:msgid>/raw/",
        downloads.patch_raw,
        name="patch-raw",
    ),
    path(
        "project/<slug:linkname>/cover/<path:msgid>/mbox/",
        downloads.cover_mbox,
        name="cover-mbox",
    ),
    path("series/<int:series_id>/mbox/", downloads.series_mbox, name="series-mbox"),
    path("bundle/<str:username>/<str:name>/mbox/", downloads.bundle_mbox, name="bundle-mbox"),
    # Older Patchwork URLs (COMPAT_REDIR).
    path("patch/<int:patch_id>/mbox/", downloads.legacy_patch_mbox, name="patch-mbox-legacy"),
    path("patch/<int:patch_id>/raw/", downloads.legacy_patch_raw, name="patch-raw-legacy"),
    path("cover/<int:cover_id>/mbox/", downloads.legacy_cover_mbox, name="cover-mbox-legacy"),
]
