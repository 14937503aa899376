from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "apps.projects"
    label = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: services import models, not loaded yet.
        from apps.accounts.services import address_confirmed_listen
        from apps.projects.services import person_link

        # A confirmed address makes the person behind it the user's.
        address_confirmed_listen(person_link)
