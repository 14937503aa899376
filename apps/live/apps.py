from django.apps import AppConfig


class LiveConfig(AppConfig):
    """Live pages: Channels consumer, hub and catch-up; a listener of apps.events."""

    name = "apps.live"
    label = "live"

    def ready(self) -> None:
        # Imported once the models are loaded (Django's rule for AppConfig.ready).
        from apps.events.services import events_listen
        from apps.live import publish, signals

        events_listen(publish.events_publish_on_commit)
        signals.connect()
