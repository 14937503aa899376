from django.apps import AppConfig


class PatchesConfig(AppConfig):
    name = "apps.patches"
    label = "patches"
    default_auto_field = "django.db.models.BigAutoField"
