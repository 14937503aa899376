from django.contrib import admin

from apps.webhooks.models import Delivery, DeliveryAttempt, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "active", "failing_since", "created")
    list_filter = ("active",)
    search_fields = ("url", "description")
    raw_id_fields = ("owner",)
    exclude = ("secret", "previous_secret")


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("started", "duration_ms", "response_status", "error")
    fields = readonly_fields


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("message_id", "webhook", "category", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "category")
    list_select_related = ("webhook",)
    raw_id_fields = ("webhook", "event")
    inlines = [DeliveryAttemptInline]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("delivery", "started", "response_status", "duration_ms")
    raw_id_fields = ("delivery",)
