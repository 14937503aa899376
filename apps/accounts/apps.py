from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, API tokens, registration, confirmations and profile settings.

    Its models keep app_label "projects" (see apps/accounts/models.py).
    """

    name = "apps.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"
