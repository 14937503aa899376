"""The /xmlrpc/ endpoint: XML-RPC calls on POST, generated documentation on GET."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from spyne import Application
from spyne.server.django import DjangoHttpMethodContext, DjangoServer

from apps.xmlrpc import docs
from apps.xmlrpc.auth import authenticate_method_call
from apps.xmlrpc.protocol import INTERNAL_ERROR, TRANSPORT_ERROR, XmlRpc, fault_response
from apps.xmlrpc.rpc import SERVICES

logger = logging.getLogger(__name__)

# XML-RPC calls are small; the largest legitimate one (a check's description) is
# far below this. Override with the XMLRPC_MAX_REQUEST_SIZE setting.
DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024


class XmlRpcServer(DjangoServer):
    """spyne's Django transport, reading a body the view has already bounded."""

    def get_contexts(self, request):
        ctx = DjangoHttpMethodContext(self, request, self.app.out_protocol.mime_type)
        ctx.in_string = [request.xmlrpc_body]
        return self.generate_contexts(ctx)


application = Application(
    SERVICES,
    tns="patchwork.xmlrpc",
    name="Patchwork",
    in_protocol=XmlRpc(),
    out_protocol=XmlRpc(),
)
application.event_manager.add_listener("method_call", authenticate_method_call)
server = XmlRpcServer(application)


def _fault(code: int, message: str, status: int = 200) -> HttpResponse:
    return HttpResponse(
        fault_response(code, message), status=status, content_type="text/xml; charset=utf-8"
    )


def _max_request_size() -> int:
    return getattr(settings, "XMLRPC_MAX_REQUEST_SIZE", DEFAULT_MAX_REQUEST_SIZE)


@csrf_exempt
def xmlrpc_endpoint(request: HttpRequest) -> HttpResponse:
    if not settings.ENABLE_XMLRPC:
        raise Http404("The XML-RPC API is not enabled on this server")
    if request.method in ("GET", "HEAD"):
        return xmlrpc_docs(request)
    if request.method != "POST":
        response = _fault(
            TRANSPORT_ERROR, f"XML-RPC calls use POST, not {request.method}", status=405
        )
        response["Allow"] = "GET, HEAD, POST"
        return response

    limit = _max_request_size()
    too_large = f"Request body too large: XML-RPC calls are limited to {limit} bytes"
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _fault(TRANSPORT_ERROR, too_large)
    body = request.read(limit + 1)
    if len(body) > limit:
        return _fault(TRANSPORT_ERROR, too_large)
    request.xmlrpc_body = body  # type: ignore[attr-defined]  # read by protocol.py
    try:
        return server.handle_rpc(request)
    except Exception:  # never an HTML error page: whatever went wrong is a fault
        logger.exception("XML-RPC call failed")
        return _fault(INTERNAL_ERROR, "Internal error")


def xmlrpc_docs(request: HttpRequest) -> HttpResponse:
    methods, shapes = docs.application_docs(application)
    return render(
        request,
        "xmlrpc/docs.html",
        {
            "methods": methods,
            "shapes": shapes,
            "faults": docs.FAULTS,
            "endpoint": request.build_absolute_uri("/xmlrpc/"),
        },
    )
