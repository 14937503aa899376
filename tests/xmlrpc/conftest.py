"""XML-RPC clients talking to the session's daphne (daphne_server, the root conftest).

The server runs in a subprocess, so test data must be committed: tests using it
are marked `live` (see tests/servers.py).
"""

from __future__ import annotations

import xmlrpc.client

import pytest

from tests.servers import live  # noqa: F401 - the tests import it from here


def proxy(url: str, username: str | None = None, password: str = "password"):
    if username:
        scheme, rest = url.split("://", 1)
        url = f"{scheme}://{username}:{password}@{rest}"
    return xmlrpc.client.ServerProxy(f"{url}/xmlrpc/", allow_none=True)


@pytest.fixture
def rpc(daphne_server):
    """An anonymous XML-RPC client."""
    return proxy(daphne_server.url)


@pytest.fixture
def rpc_as(daphne_server):
    """rpc_as(user) -> an XML-RPC client sending that user's Basic credentials."""
    return lambda user, password="password": proxy(daphne_server.url, user.username, password)
