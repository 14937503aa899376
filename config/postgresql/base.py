"""Django's PostgreSQL backend, with a pool that checks a connection without a round trip.

Django's pool health check (CONN_HEALTH_CHECKS) sends an empty query each time a request
takes a connection: one more round trip for every request that reads the database, a
wake-up of the server and then of this process (on a busy machine, each a wait for a
core; docs/benchmarks.md, "Fourth pass"). A server that drops a connection (restart,
idle timeout, pg_terminate_backend) says so on its socket before closing it, so an idle
connection with nothing to read is still there; one with something to read gets the
full check, and a dead one is handed back to the pool, which replaces it.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq
from psycopg_pool import ConnectionPool


def server_hung_up(connection) -> bool:
    """Whether the server closed `connection` (or it is otherwise unusable)."""
    if connection.closed or connection.pgconn.status != pq.ConnStatus.OK:
        return True
    readable, _, _ = select.select([connection.fileno()], [], [], 0)
    if not readable:  # nothing from the server since the last request: still there
        return False
    try:  # a notice, or the server's goodbye: ask
        ConnectionPool.check_connection(connection)
    except Exception:
        return True
    return False


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        pool = self.pool
        if pool is None:
            return connection
        # After a restart every idle connection is gone: the pool opens new ones.
        for _ in range(pool.max_size + 1):
            if not server_hung_up(connection):
                return connection
            connection.close()
            pool.putconn(connection)
            connection = pool.getconn()
        ConnectionPool.check_connection(connection)  # raises: the server is down
        return connection
