"""Included at "xmlrpc/"; "/xmlrpc" without the slash is routed in pwclient_urls."""

from __future__ import annotations

from django.urls import path

from apps.xmlrpc.endpoint import xmlrpc_endpoint

urlpatterns = [
    path("", xmlrpc_endpoint, name="xmlrpc"),
]
