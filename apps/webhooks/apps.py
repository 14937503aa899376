from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.events.services import events_listen
        from apps.webhooks import tasks
        from apps.webhooks.services import deliveries_create_for_events, deliveries_queue_connect

        # Every event written gets its outbox rows in the same transaction.
        events_listen(deliveries_create_for_events)
        # Deliveries are queued through services.deliveries_enqueue; only tasks.py knows Celery.
        deliveries_queue_connect(tasks.deliveries_send)
