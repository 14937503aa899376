from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "apps.checks"
    label = "checks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.checks.selectors import checks_failing_q
        from apps.patches.search import search_has_register

        search_has_register("failed-checks", checks_failing_q)
