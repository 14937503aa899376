"""The XML-RPC endpoint and the pages for pwclient users (included at "")."""

from __future__ import annotations

from django.urls import path

from apps.xmlrpc.endpoint import xmlrpc_endpoint
from apps.xmlrpc.pwclient import project_pwclientrc, pwclient_page

urlpatterns = [
    path("xmlrpc/", xmlrpc_endpoint, name="xmlrpc"),
    # Old pwclientrc files name the endpoint without the slash; a redirect would
    # turn an XML-RPC POST into a GET, so serve it here too.
    path("xmlrpc", xmlrpc_endpoint, name="xmlrpc-noslash"),
    path("pwclient/", pwclient_page, name="pwclient"),
    path("project/<slug:linkname>/pwclientrc/", project_pwclientrc, name="project-pwclientrc"),
]
