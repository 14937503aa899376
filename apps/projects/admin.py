from django.contrib import admin

from apps.projects.models import DelegationRule, Person, Project, State, Tag


class DelegationRuleInline(admin.TabularInline):
    model = DelegationRule
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "linkname", "listid", "listemail", "subject_match")
    search_fields = ("name", "linkname", "listid")
    filter_horizontal = ("maintainers",)
    inlines = [DelegationRuleInline]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "user")
    search_fields = ("name", "email")
    raw_id_fields = ("user",)


@admin.register(State)
class StateAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "ordering", "action_required")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "abbrev", "pattern", "show_column")


@admin.register(DelegationRule)
class DelegationRuleAdmin(admin.ModelAdmin):
    list_display = ("project", "path", "user", "priority")
    list_filter = ("project",)
