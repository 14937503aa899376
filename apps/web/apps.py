from django.apps import AppConfig


class WebConfig(AppConfig):
    """The HTML pages; the live ones tell apps.live how to follow them."""

    name = "apps.web"
    label = "web"

    def ready(self) -> None:
        # Imported once the models are loaded (Django's rule for AppConfig.ready).
        from apps.live.pages import live_page_kind_register
        from apps.web.patches.detail_live import LIVE_PATCH
        from apps.web.patches.list import LIVE_LIST
        from apps.web.series.detail import LIVE_SERIES
        from apps.web.series.list import LIVE_SERIES_LIST

        for kind in (LIVE_LIST, LIVE_PATCH, LIVE_SERIES, LIVE_SERIES_LIST):
            live_page_kind_register(kind)
