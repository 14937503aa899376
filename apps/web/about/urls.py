from __future__ import annotations

from django.urls import path

from apps.web.about import views

urlpatterns = [
    path("about/", views.about, name="about"),
]
