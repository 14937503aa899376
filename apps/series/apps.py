from django.apps import AppConfig


class SeriesConfig(AppConfig):
    name = "apps.series"
    label = "series"
    default_auto_field = "django.db.models.BigAutoField"
