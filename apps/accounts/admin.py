from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from apps.accounts.models import APIToken, EmailConfirmation, EmailOptout, User
from apps.accounts.services import api_token_regenerate


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = tuple(DjangoUserAdmin.fieldsets or ()) + (
        ("Patchwork settings", {"fields": ("items_per_page", "show_ids", "send_email")}),
    )
    actions = ["generate_api_token"]

    @admin.action(description="Generate a new API token (shown once)")
    def generate_api_token(self, request, queryset):
        for user in queryset:
            key = api_token_regenerate(user=user)
            self.message_user(request, f"API token for {user.username}: {key}")


@admin.register(APIToken)
class APITokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "created", "last_used")
    readonly_fields = ("digest", "prefix", "created", "last_used")
    raw_id_fields = ("user",)

    def has_add_permission(self, request):
        return False  # tokens are generated with the user action, so the key can be shown once


@admin.register(EmailConfirmation)
class EmailConfirmationAdmin(admin.ModelAdmin):
    list_display = ("type", "email", "user", "date", "active")
    list_filter = ("type", "active")


@admin.register(EmailOptout)
class EmailOptoutAdmin(admin.ModelAdmin):
    search_fields = ("email",)
