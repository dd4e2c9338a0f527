from django.contrib import admin
from django.contrib.auth.models import Group as PermissionGroup

from shared.validators import refuse_control_characters

from .models import Attempt, Course, Group, Learner, Membership, Tag


class SingleLineNamesAdmin(admin.ModelAdmin):
    """Names (`single_line_fields`) refuse control characters: they reach e-mail subjects and
    log lines."""

    single_line_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.single_line_fields:
            field.validators.append(refuse_control_characters)
        return field


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["learner"]
    readonly_fields = ["imported"]  # set by a platform's directory import only


@admin.register(Group)
class GroupAdmin(SingleLineNamesAdmin):
    single_line_fields = ("name",)
    list_display = ["name", "slug", "parent", "is_public", "is_platform"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Learner)
class LearnerAdmin(SingleLineNamesAdmin):
    single_line_fields = ("first_name", "last_name")
    list_display = ["email", "first_name", "last_name", "is_active"]
    search_fields = ["email", "first_name", "last_name"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "group", "status", "lang", "duration_minutes"]
    list_filter = ["kind", "status", "lang"]
    search_fields = ["title", "external_id"]
    list_select_related = ["group"]
    readonly_fields = ["title", "name", "description", "external_id", "fingerprint"]


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["learner", "course", "number", "progress", "is_open", "completed_at"]
    list_select_related = ["learner", "course"]
    raw_id_fields = ["learner", "course"]


admin.site.register(Tag)


# Who may do what here is a membership of a platform group (`Membership.role`); Django's own
# permission groups are not used, and two "Groups" side by side in the admin read as one thing
# twice. (django.contrib.auth registers its admin before this app: INSTALLED_APPS order.)
admin.site.unregister(PermissionGroup)
