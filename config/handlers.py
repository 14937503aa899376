"""Django's ASGI handler, with each request's middleware and view run in one thread hop.

Django builds the middleware chain async when it can: each ``MiddlewareMixin``
middleware then calls its ``process_request``/``process_view``/``process_response``
through ``sync_to_async``, and WhiteNoise (sync only) sends the rest back through
``async_to_sync`` — about 17 switches between the event loop and the request's
thread for a page, each a wake-up of the other thread (on a busy machine, a wait
for a core). Built sync, as under WSGI, the chain and the view run in the request's
thread in one hop (docs/benchmarks.md, "Fourth pass"). Async views still work: the
sync chain runs them with ``async_to_sync``, on the event loop, as Django does under
WSGI; streamed responses are read by the handler as before.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.http import HttpRequest, HttpResponseBase


class ASGIHandler(DjangoASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # thread_sensitive: the thread of the request's other sync work (its request_started
        # and request_finished signals), so the database connection it used goes back to
        # the pool at request_finished.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def get_asgi_application() -> ASGIHandler:
    """As django.core.asgi.get_asgi_application, with the handler above."""
    import django

    django.setup(set_prefix=False)
    return ASGIHandler()
