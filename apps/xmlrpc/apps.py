import logging

from django.apps import AppConfig


class _ClientFaultFilter(logging.Filter):
    """Drop spyne's log records about faults the caller caused (bad arguments, credentials)."""

    def filter(self, record: logging.LogRecord) -> bool:
        faultcode = str(getattr(record.msg, "faultcode", "") or "")
        return not faultcode.startswith("Client")


class XmlrpcConfig(AppConfig):
    name = "apps.xmlrpc"
    label = "xmlrpc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # spyne logs every fault, including a client's wrong argument, with a
        # traceback at ERROR; keep the log for real server errors.
        for name in ("spyne.application.client", "spyne.server._base", "spyne.server.django"):
            logging.getLogger(name).addFilter(_ClientFaultFilter())
