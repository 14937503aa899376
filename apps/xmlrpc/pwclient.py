"""Pages for pwclient users: how to install it, and a ready .pwclientrc per project."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string

from apps.api.support import pwclient_backend
from apps.projects.models import Project
from apps.projects.selectors import projects_all


def _absolute(request: HttpRequest, path: str) -> str:
    url = request.build_absolute_uri(path)
    if settings.FORCE_HTTPS_LINKS and url.startswith("http://"):
        url = "https://" + url[len("http://") :]
    return url


def project_pwclientrc(request: HttpRequest, linkname: str) -> HttpResponse:
    backend = pwclient_backend()
    if backend is None:
        raise Http404("Neither the REST nor the XML-RPC API is enabled on this server")
    project = get_object_or_404(Project, linkname=linkname)
    text = render_to_string(
        "xmlrpc/pwclientrc.txt",
        {
            "project": project,
            "backend": backend,
            "rest_url": _absolute(request, "/api/"),
            "xmlrpc_url": _absolute(request, "/xmlrpc/"),
            "xmlrpc_enabled": settings.ENABLE_XMLRPC,
            "rest_enabled": settings.ENABLE_REST_API,
            "username": request.user.username if request.user.is_authenticated else "",
        },
        request=request,
    )
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="pwclientrc"'
    return response


def pwclient_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "xmlrpc/pwclient.html",
        {"projects": projects_all(), "backend": pwclient_backend()},
    )
