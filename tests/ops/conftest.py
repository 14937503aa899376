"""Real processes for operations tests: daphne over the test database, subprocess environments.

Servers run in subprocesses, so their tests commit data: they are marked `live`
(see tests/servers.py).
"""

from __future__ import annotations

import pytest

from tests.servers import (  # noqa: F401 - re-exported for the ops tests
    BIN,
    ROOT,
    Daphne,
    database_url,
    free_socket,
    live,
    process_env,
    stop_process,
)


@pytest.fixture
def daphne(tmp_path):
    """Start daphne servers with daphne(**env overrides); all are stopped afterwards."""
    servers: list[Daphne] = []

    def start(**overrides: str) -> Daphne:
        server = Daphne(process_env(**overrides), tmp_path / f"daphne-{len(servers)}.log")
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
