from django.apps import AppConfig


class SeriesConfig(AppConfig):
    name = "apps.series"
    label = "series"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.series import queue, tasks

        # The services queue their work through queue.py; Celery is known to tasks.py only.
        queue.queue_connect(range_diff=tasks.range_diff_enqueue)
