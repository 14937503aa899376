from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "apps.live"
    label = "live"

    def ready(self) -> None:
        from apps.live import signals

        signals.connect()
