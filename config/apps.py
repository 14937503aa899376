from django.apps import AppConfig


class SiteConfig(AppConfig):
    """config/ as an app, for the management commands that belong to the whole site.

    `manage.py cron` runs the entries of CELERY_BEAT_SCHEDULE, which are scheduled
    here (settings, celery, heartbeat) and name tasks of every app: no single app
    below owns them, and an app may not import from config/.
    """

    name = "config"
    label = "config"
