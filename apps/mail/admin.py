from django.contrib import admin, messages
from django.utils.html import format_html

from apps.mail.context import IngestContext
from apps.mail.models import AwaitedMessage, InboxCursor, IncomingMail
from apps.mail.services import mail_ingest, mail_requeue

# How much of a raw message the admin shows.
PREVIEW_BYTES = 64 * 1024


@admin.register(IncomingMail)
class IncomingMailAdmin(admin.ModelAdmin):
    list_display = ("id", "msgid", "status", "project", "outcome", "reason", "received")
    list_filter = ("status", "project")
    list_select_related = ("project",)
    search_fields = ("msgid", "reason", "outcome")
    readonly_fields = ("received", "processed", "attempts", "raw_message")
    exclude = ("raw",)
    actions = ["reingest"]

    class Media:
        css = {"all": ("css/admin.css",)}  # no inline style: the CSP allows none

    @admin.display(description="raw message")
    def raw_message(self, mail: IncomingMail) -> str:
        raw = bytes(mail.raw or b"")
        text = raw[:PREVIEW_BYTES].decode("utf-8", "replace")
        more = f"\n[… {len(raw) - PREVIEW_BYTES} more bytes]" if len(raw) > PREVIEW_BYTES else ""
        # format_html escapes every byte of the mail.
        return format_html('<pre class="raw-mail">{}{}</pre>', text, more)

    @admin.action(description="Ingest the selected mail again")
    def reingest(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        mail_requeue(mail_ids=ids)
        context = IngestContext()
        statuses = [
            mail_ingest(mail, context=context).status
            for mail in IncomingMail.objects.filter(pk__in=ids).order_by("received", "pk")
        ]
        level = messages.WARNING if "failed" in statuses else messages.SUCCESS
        summary = ", ".join(f"{statuses.count(s)} {s}" for s in sorted(set(statuses)))
        self.message_user(request, f"Ingested {len(ids)} mails again: {summary}.", level)


@admin.register(AwaitedMessage)
class AwaitedMessageAdmin(admin.ModelAdmin):
    list_display = ("msgid", "kind", "project", "mail", "series", "position")
    list_filter = ("kind", "project")
    search_fields = ("msgid",)
    raw_id_fields = ("mail", "series")


@admin.register(InboxCursor)
class InboxCursorAdmin(admin.ModelAdmin):
    """Where follow-inbox resumes in each public-inbox repository (delete one to read it
    all again: what is already stored is skipped)."""

    list_display = ("repository", "last_commit", "updated")
    search_fields = ("repository",)
