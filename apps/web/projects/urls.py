from django.urls import path

from apps.web.projects import views

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("project/<slug:linkname>/", views.project_detail, name="project-detail"),
]
