"""The request the pages' views receive."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request with what django-htmx's middleware sets (config/settings.py installs it)."""

    htmx: HtmxDetails
