from tests.xmlrpc.conftest import daphne_server  # noqa: F401
