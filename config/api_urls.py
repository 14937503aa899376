"""URLs under /api/: every version's API, each path with and without its trailing slash.

Clients write ``/api/1.2/patches/1`` as often as ``…/1/``; answering both
directly (rather than redirecting) keeps PATCH/POST bodies intact. Anything
else under /api/ is a JSON 404, and everything is a 404 when the REST API is
disabled (``ENABLE_REST_API = False``).
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.urls import include, path, re_path
from django.urls.resolvers import URLPattern, URLResolver

from apps.api.support import json_response
from config.api import build_apis


def _disabled():
    return json_response({"detail": "The REST API is disabled on this instance."}, status=404)


def _guard(view):
    """The view, answering 404 whenever the REST API is switched off."""
    if iscoroutinefunction(view):

        async def guarded_async(request, *args, **kwargs):
            if not settings.ENABLE_REST_API:
                return _disabled()
            return await view(request, *args, **kwargs)

        guarded = guarded_async
    else:

        def guarded_sync(request, *args, **kwargs):
            if not settings.ENABLE_REST_API:
                return _disabled()
            return view(request, *args, **kwargs)

        guarded = guarded_sync
    guarded.csrf_exempt = True  # the API checks CSRF itself, for session users only
    return guarded


def _with_and_without_slash(patterns: list[URLPattern | URLResolver]) -> list[URLPattern]:
    result = []
    for pattern in patterns:
        assert isinstance(pattern, URLPattern), pattern
        route = str(pattern.pattern)
        callback = _guard(pattern.callback)
        result.append(path(route, callback, pattern.default_args, pattern.name))
        if route.endswith("/"):
            result.append(path(route.rstrip("/"), callback, pattern.default_args))
    return result


def _not_found(request, *args, **kwargs):
    if not settings.ENABLE_REST_API:
        return _disabled()
    return json_response({"detail": "Not found."}, status=404)


def _build_urlpatterns() -> list[URLPattern | URLResolver]:
    # A function, not module-level code: include() would read a module-level app_name.
    result: list[URLPattern | URLResolver] = []
    for prefix, api in build_apis().items():
        patterns, ninja_app, namespace = api.urls
        routes = _with_and_without_slash(patterns)
        if prefix:
            # /api/1.2 (no slash) is that version's index.
            root = next(p for p in routes if str(p.pattern) == "")
            result.append(path(prefix.rstrip("/"), root.callback))
        result.append(path(prefix, include((routes, ninja_app), namespace=namespace)))
    result.append(re_path(r"^.*$", _guard(_not_found)))
    return result


urlpatterns = _build_urlpatterns()
