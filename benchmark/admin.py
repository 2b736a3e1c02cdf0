from django.contrib import admin

from .models import (
    Correlation,
    CorrelationRun,
    PairExclusion,
    StudyAnalysisSettings,
    ValidatedItem,
    ValidatedItemSet,
)


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


@admin.register(PairExclusion)
class PairExclusionAdmin(admin.ModelAdmin):
    """Admins exclude single (item, dimension) pairs, with a reason, from future item sets."""

    list_display = ["study", "item", "dimension", "reason", "created_by", "created_at"]
    list_filter = ["study", "family", "dimension"]
    raw_id_fields = ["item"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(StudyAnalysisSettings)
class StudyAnalysisSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "study",
        "method",
        "recompute_after_completions",
        "completions_since_last_run",
        "target_r",
        "alpha",
        "power",
        "bootstrap_resamples",
        "min_raters_per_pair",
        "min_reliability_respondents",
    ]
    readonly_fields = ["completions_since_last_run"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "study",
                    "method",
                    "recompute_after_completions",
                    "completions_since_last_run",
                    "target_r",
                    "alpha",
                    "power",
                    "bootstrap_resamples",
                    "bootstrap_seed",
                ]
            },
        ),
        (
            "Minimums: below these counts a statistic shows as 'too few' (see README)",
            {
                "fields": [
                    "min_raters_per_pair",
                    "min_reliability_respondents",
                    "min_group_participants",
                    "min_percentile_humans",
                    "min_items_per_dimension",
                ]
            },
        ),
    ]
