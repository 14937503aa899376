from django.contrib import admin

from apps.events.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "category", "project", "actor", "date")
    list_filter = ("category", "project")
    list_select_related = ("project", "actor")
    raw_id_fields = (
        "actor",
        "patch",
        "series",
        "cover",
        "previous_delegate",
        "current_delegate",
        "previous_relation",
        "current_relation",
        "created_check",
        "patch_comment",
        "cover_comment",
    )

    def has_change_permission(self, request, obj=None):
        return False
