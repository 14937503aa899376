from django.contrib import admin

from apps.series.models import RangeDiff, Series, SeriesReference


class SeriesReferenceInline(admin.TabularInline):
    model = SeriesReference
    extra = 0


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "submitter", "version", "total", "date")
    list_filter = ("project",)
    list_select_related = ("project", "submitter")
    search_fields = ("name",)
    raw_id_fields = ("submitter", "cover", "dependencies", "previous_revision")
    inlines = [SeriesReferenceInline]


@admin.register(SeriesReference)
class SeriesReferenceAdmin(admin.ModelAdmin):
    list_display = ("msgid", "series", "project")
    search_fields = ("msgid",)
    raw_id_fields = ("series",)


@admin.register(RangeDiff)
class RangeDiffAdmin(admin.ModelAdmin):
    """Cached comparisons: deleting one makes the next view compute it again."""

    list_display = ("series", "against", "method", "computed_at")
    list_select_related = ("series", "against")
    raw_id_fields = ("series", "against")
    readonly_fields = ("fingerprint", "method", "entries", "text", "computed_at")
