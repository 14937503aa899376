"""Project pages: the project list (home page) and a project's page."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from apps.api.support import LATEST, pwclient_backend
from apps.patches.models import Patch
from apps.projects.models import Project, State
from apps.projects.selectors import projects_all

# Per-state counts of a busy project are a scan of its patches: computed at most once a minute.
PATCH_COUNTS_CACHE_SECONDS = 60


def project_patch_counts(project: Project) -> list[dict]:
    """Patches per state (archived ones apart), cached briefly: one grouped query at most."""
    key = f"project-patch-counts:{project.pk}"
    rows = cache.get(key)
    if rows is None:
        rows = list(
            Patch.objects.filter(project=project)
            .values("state_id", "archived")
            .annotate(n=Count("id"))
            .order_by()
        )
        cache.set(key, rows, PATCH_COUNTS_CACHE_SECONDS)
    states = list(State.objects.order_by("ordering"))
    counts = []
    for state in states:
        active = sum(r["n"] for r in rows if r["state_id"] == state.pk and not r["archived"])
        archived = sum(r["n"] for r in rows if r["state_id"] == state.pk and r["archived"])
        if active or archived:
            counts.append({"state": state, "active": active, "archived": archived})
    return counts


def project_list(request: HttpRequest) -> HttpResponse:
    projects = list(projects_all())
    return render(request, "projects/project_list.html", {"projects": projects})


def project_detail(request: HttpRequest, linkname: str) -> HttpResponse:
    project = get_object_or_404(Project, linkname=linkname)
    maintainers = list(project.maintainers.order_by("username"))
    counts = project_patch_counts(project)
    site_url = request.build_absolute_uri("/")
    if settings.FORCE_HTTPS_LINKS:
        site_url = site_url.replace("http://", "https://", 1)
    # With the version, as git-pw wants it (else it warns "Server version missing").
    api_url = f"{site_url}api/{LATEST}"
    context = {
        "project": project,
        "maintainers": maintainers,
        "counts": counts,
        "total_active": sum(c["active"] for c in counts),
        "total_archived": sum(c["archived"] for c in counts),
        "action_required": sum(c["active"] for c in counts if c["state"].action_required),
        "api_url": api_url,
        "site_url": site_url,  # for b4's git config
        "pwclient_backend": pwclient_backend(),
    }
    return render(request, "projects/project_detail.html", context)
