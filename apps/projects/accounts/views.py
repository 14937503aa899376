"""Account pages: registration, profile, confirmations and the about page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render


def register(request):
    return render(request, "accounts/register.html", {})


@login_required
def profile(request):
    return render(request, "accounts/profile.html", {})


def about(request):
    return render(
        request,
        "about.html",
        {"rest_enabled": settings.ENABLE_REST_API, "xmlrpc_enabled": settings.ENABLE_XMLRPC},
    )
