from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.events.services import events_listen
        from apps.webhooks.services import deliveries_create_for_events

        # Every event written gets its outbox rows in the same transaction.
        events_listen(deliveries_create_for_events)
