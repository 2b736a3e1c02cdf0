from django.contrib import admin

from .models import Correlation, CorrelationRun, ValidatedItem, ValidatedItemSet


@admin.register(CorrelationRun)
class CorrelationRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "study",
        "kind",
        "method",
        "status",
        "n_participants",
        "duration_seconds",
        "created_at",
    ]
    list_filter = ["study", "kind", "method", "status"]
    readonly_fields = [f.name for f in CorrelationRun._meta.fields]

    def has_add_permission(self, request):
        return False  # runs are computed or imported, never typed in


@admin.register(Correlation)
class CorrelationAdmin(admin.ModelAdmin):
    list_display = ["run", "item", "family", "dimension", "r", "p", "n"]
    list_filter = ["run", "family", "dimension"]
    raw_id_fields = ["run", "item"]
    list_select_related = ["run__study", "item__scenario"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ValidatedItemInline(admin.TabularInline):
    model = ValidatedItem
    extra = 0
    can_delete = False
    readonly_fields = ["item", "family", "dimension", "r", "p"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ValidatedItemSet)
class ValidatedItemSetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "version",
        "study",
        "correlation_run",
        "preset",
        "created_by",
        "created_at",
    ]
    list_filter = ["name", "study"]
    readonly_fields = [f.name for f in ValidatedItemSet._meta.fields]
    inlines = [ValidatedItemInline]

    def has_add_permission(self, request):
        return False  # frozen sets are made from a rule, never typed in

    def has_change_permission(self, request, obj=None):
        return False
