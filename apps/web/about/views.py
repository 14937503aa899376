"""The about page: version, enabled APIs and how to reach them.

A page above the API (it names the REST versions), so not an accounts page.
"""

from __future__ import annotations

from importlib import metadata

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from apps.api.support import VERSIONS, pwclient_backend


def _version() -> str:
    try:
        return metadata.version("patchwork-ng")
    except metadata.PackageNotFoundError:
        return "unknown"


def about(request: HttpRequest) -> HttpResponse:
    context = {
        "version": _version(),
        "rest_enabled": settings.ENABLE_REST_API,
        "xmlrpc_enabled": settings.ENABLE_XMLRPC,
        "api_versions": VERSIONS,
        "api_url": "/api/",
        "xmlrpc_url": "/xmlrpc/",
        "register_url": reverse("register"),
        "pwclient_backend": pwclient_backend(),
    }
    return render(request, "about.html", context)
