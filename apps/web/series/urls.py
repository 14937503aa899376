from __future__ import annotations

from django.urls import path

from apps.web.series import detail as views
from apps.web.series import list as triage_views
from apps.web.series import rangediff as rangediff_views
from apps.web.series import thread as thread_views

urlpatterns = [
    path("series/<int:series_id>/", views.series_detail, name="series-detail"),
    path("project/<slug:linkname>/series/", triage_views.series_list, name="series-list"),
    path("series/<int:series_id>/action/", triage_views.series_action, name="series-action"),
]

urlpatterns += [
    path(
        "project/<slug:linkname>/series/<int:series_id>/range-diff/",
        rangediff_views.series_range_diff,
        name="series-range-diff",
    ),
    path(
        "project/<slug:linkname>/series/<int:series_id>/range-diff.txt",
        rangediff_views.series_range_diff_text,
        name="series-range-diff-text",
    ),
]

# Where b4 fetches a thread (b4.midmask = <site>/project/<linkname>/thread/%s) and links
# a message (b4.linkmask = …/thread/%s/).
urlpatterns += [
    path(
        "project/<slug:linkname>/thread/<path:msgid>/t.mbox.gz",
        thread_views.thread_mbox_gz,
        name="thread-mbox",
    ),
    path(
        "project/<slug:linkname>/thread/<path:msgid>/raw",
        thread_views.message_raw,
        name="thread-message-raw",
    ),
    path(
        "project/<slug:linkname>/thread/<path:msgid>/",
        thread_views.message_page,
        name="thread-message",
    ),
]
