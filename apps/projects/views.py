"""Project pages."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render

from apps.projects.models import Project
from apps.projects.selectors import projects_all


def project_list(request):
    return render(request, "projects/project_list.html", {"projects": projects_all()})


def project_detail(request, linkname: str):
    project = get_object_or_404(Project.objects.prefetch_related("maintainers"), linkname=linkname)
    return render(request, "projects/project_detail.html", {"project": project})
