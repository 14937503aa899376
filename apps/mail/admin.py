from django.contrib import admin

from apps.mail.models import IncomingMail


@admin.register(IncomingMail)
class IncomingMailAdmin(admin.ModelAdmin):
    list_display = ("id", "msgid", "status", "outcome", "reason", "received")
    list_filter = ("status",)
    search_fields = ("msgid",)
    readonly_fields = ("received", "processed", "attempts")
    exclude = ("raw",)
