from django.apps import AppConfig


class XmlrpcConfig(AppConfig):
    name = "apps.xmlrpc"
    label = "xmlrpc"
    default_auto_field = "django.db.models.BigAutoField"
