from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.events.live import signals
        from apps.events.publish import event_publish_on_commit
        from apps.events.services import events_listen

        signals.connect()

        # Live pages hear of events (moves to LiveConfig.ready() with publish.py and live/).
        def publish(events: list) -> None:
            for event in events:
                event_publish_on_commit(event)

        events_listen(publish)
