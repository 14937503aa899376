"""URL routes: every app contributes its own urls module; order matters where paths overlap."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path

from config import health


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    # Resolved per request: with the manifest storage, static() needs collectstatic's output.
    return HttpResponseRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    # Browsers ask for /favicon.ico where a page names no icon (raw mbox, JSON, admin).
    path("favicon.ico", favicon, name="favicon"),
    # REST API (all versions); the legacy XML-RPC API and the pwclient pages.
    path("api/", include("config.api_urls")),
    path("", include("apps.xmlrpc.urls")),
    # Mail intake over HTTP.
    path("mail/", include("apps.mail.urls")),
    # Downloads (mbox, raw diff) come before the pages: a Message-ID may contain '/'.
    path("", include("apps.web.downloads.urls")),
    path("", include("apps.web.patches.urls")),
    path("", include("apps.web.series.urls")),
    path("", include("apps.web.projects.urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.web.about.urls")),
    path("", include("apps.webhooks.urls")),
]
