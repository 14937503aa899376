"""ASGI entry point: HTTP to Django, websockets to Channels consumers."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.handlers import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from apps.live.origin import same_origin_only  # noqa: E402
from apps.live.routing import websocket_urlpatterns  # noqa: E402
from apps.xmlrpc.asgi import absolute_form_paths  # noqa: E402

application = ProtocolTypeRouter(
    {
        # pwclient sends absolute-form request lines (POST http://host/xmlrpc/ HTTP/1.1).
        "http": absolute_form_paths(django_asgi_app),
        # The Origin must be this site's scheme, host and port (apps/live/origin.py).
        "websocket": same_origin_only(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Everything loaded by now (Django, the URLconf and the API routers) lives as
# long as the process: moved out of the cyclic garbage collector's reach, a full pass
# no longer walks it (~180,000 objects: 50-150 ms, paid by whichever request ran then).
import gc  # noqa: E402

import config.urls  # noqa: E402, F401

gc.collect()
gc.freeze()
