"""To-do lists: patches delegated to me that still need action and are not archived."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.patches.models import Patch
from apps.projects.models import Project, State
from apps.web.patches.list import list_context


def _todo_patches(user, states: list[State]):
    return Patch.objects.filter(
        delegate=user,
        archived=False,
        state_id__in=[s.pk for s in states if s.action_required],
    )


@login_required
def todo_lists(request: HttpRequest) -> HttpResponse:
    """One line per project with patches waiting for me."""
    states = list(State.objects.order_by("ordering"))
    rows = (
        _todo_patches(request.user, states)
        .values("project_id")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = {r["project_id"]: r["count"] for r in rows}
    projects = list(Project.objects.filter(pk__in=counts).order_by("linkname"))
    todo = [{"project": p, "count": counts[p.pk]} for p in projects]
    return render(request, "patches/todo_lists.html", {"todo": todo})


@login_required
def todo_list(request: HttpRequest, linkname: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    states = list(State.objects.order_by("ordering"))
    qs = _todo_patches(request.user, states).filter(project=project).order_by("date", "id")
    context = list_context(request, project, qs, use_tags=project.use_tags, states=states)
    context["todo_project"] = context["project"] = project
    return render(request, "patches/todo_list.html", context)
