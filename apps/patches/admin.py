from django.contrib import admin

from apps.patches.models import (
    Bundle,
    BundlePatch,
    Cover,
    CoverComment,
    Patch,
    PatchChangeNotification,
    PatchComment,
    PatchRelation,
    PatchTag,
)


class PatchTagInline(admin.TabularInline):
    model = PatchTag
    extra = 0


@admin.register(Patch)
class PatchAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "submitter", "state", "delegate", "archived", "date")
    list_filter = ("project", "state", "archived")
    list_select_related = ("project", "submitter", "state", "delegate")
    search_fields = ("name", "msgid", "submitter__name", "submitter__email")
    raw_id_fields = ("submitter", "delegate", "series", "related")
    date_hierarchy = "date"
    inlines = [PatchTagInline]


@admin.register(Cover)
class CoverAdmin(admin.ModelAdmin):
    list_display = ("name", "project", "submitter", "date")
    list_filter = ("project",)
    list_select_related = ("project", "submitter")
    search_fields = ("name", "msgid")
    raw_id_fields = ("submitter",)


@admin.register(PatchComment)
class PatchCommentAdmin(admin.ModelAdmin):
    list_display = ("msgid", "patch", "submitter", "date", "addressed")
    list_select_related = ("patch", "submitter")
    search_fields = ("msgid",)
    raw_id_fields = ("patch", "submitter")


@admin.register(CoverComment)
class CoverCommentAdmin(admin.ModelAdmin):
    list_display = ("msgid", "cover", "submitter", "date", "addressed")
    list_select_related = ("cover", "submitter")
    search_fields = ("msgid",)
    raw_id_fields = ("cover", "submitter")


@admin.register(PatchRelation)
class PatchRelationAdmin(admin.ModelAdmin):
    pass


class BundlePatchInline(admin.TabularInline):
    model = BundlePatch
    extra = 0
    raw_id_fields = ("patch",)


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "project", "public")
    list_filter = ("public", "project")
    search_fields = ("name",)
    inlines = [BundlePatchInline]


@admin.register(PatchChangeNotification)
class PatchChangeNotificationAdmin(admin.ModelAdmin):
    list_display = ("patch", "orig_state", "last_modified")
    list_select_related = ("patch", "orig_state")
    raw_id_fields = ("patch",)
