from __future__ import annotations

from django.urls import path

from apps.series import triage_views, views

urlpatterns = [
    path("series/<int:series_id>/", views.series_detail, name="series-detail"),
    path("project/<slug:linkname>/series/", triage_views.series_list, name="series-list"),
    path("series/<int:series_id>/action/", triage_views.series_action, name="series-action"),
]
