from __future__ import annotations

from django.urls import path

from apps.series import views

urlpatterns = [
    path("series/<int:series_id>/", views.series_detail, name="series-detail"),
]
