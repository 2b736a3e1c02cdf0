"""Admin for the item bank, the instruments, studies and participants.

Written for researchers: studies are edited with a searchable item picker and opened,
paused or closed with actions; raw panel ids are shown only to staff holding the
``survey.view_raw_participant_ids`` permission.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.tabular import rows_to_csv

from .errors import NobodyToErase
from .models import (
    Assignment,
    ErasureRecord,
    Instrument,
    InstrumentItem,
    InstrumentResponse,
    Item,
    ItemRating,
    ItemTranslation,
    Participant,
    ParticipantScore,
    ProlificAction,
    ProlificStudy,
    Scenario,
    Source,
    Study,
)
from .selectors.translations import translation_table
from .services.erasure import erase_by_identifier, erase_participants
from .services.translations import TranslationImportError, import_translations, mark_reviewed


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "style", "scenario_count"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_scenarios=Count("scenarios"))

    @admin.display(description="Scenarios", ordering="_scenarios")
    def scenario_count(self, obj):
        return obj._scenarios


class ItemInline(admin.StackedInline):
    model = Item
    extra = 0
    fields = ["option_id", "text"]


@admin.register(Scenario)
class ScenarioAdmin(admin.ModelAdmin):
    list_display = ["external_id", "short", "source", "item_count"]
    list_filter = ["source"]
    search_fields = ["external_id", "title", "text"]
    inlines = [ItemInline]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("source").annotate(_items=Count("items"))
        )

    @admin.display(description="Scenario")
    def short(self, obj):
        return (obj.title or obj.text)[:80]

    @admin.display(description="Items", ordering="_items")
    def item_count(self, obj):
        return obj._items


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["code", "short", "source"]
    list_filter = ["scenario__source"]
    search_fields = ["text", "scenario__external_id", "scenario__title"]
    list_select_related = ["scenario__source"]
    raw_id_fields = ["scenario"]

    @admin.display(description="Response")
    def short(self, obj):
        return obj.text[:90]

    @admin.display(description="Source")
    def source(self, obj):
        return obj.scenario.source


class InstrumentItemInline(admin.TabularInline):
    model = InstrumentItem
    extra = 0
    fields = ["form", "number", "text"]
    readonly_fields = ["form", "number"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # wording is loaded from a checked file (manage.py load_instrument)


class TranslationImportForm(forms.Form):
    language = forms.CharField(max_length=16, help_text="Language code, e.g. de, ko or pt-br.")
    file = forms.FileField(help_text="CSV as written by the export (UTF-8).")
    reviewed_by_me = forms.BooleanField(
        required=False,
        label="I reviewed the rows marked reviewed whose reviewed_by is empty",
    )


@admin.register(ItemTranslation)
class ItemTranslationAdmin(admin.ModelAdmin):
    """Translations are imported per language from CSV (``manage.py import_translations``);
    here a reviewer reads them beside the source, corrects them and records the review."""

    list_display = ["item", "language", "status", "reviewed_by", "reviewed_at", "short"]
    list_filter = ["language", "status"]
    search_fields = ["response", "scenario_text", "item__scenario__external_id"]
    raw_id_fields = ["item"]
    readonly_fields = ["source_text", "reviewed_by", "reviewed_at"]
    list_select_related = ["item__scenario", "reviewed_by"]
    actions = ["mark_reviewed_by_me", "mark_back_translated_by_me", "export_language_csv"]

    @admin.display(description="Response")
    def short(self, obj):
        return obj.response[:80]

    @admin.display(description="Source (scenario / response)")
    def source_text(self, obj):
        scenario = obj.item.scenario
        return format_html(
            "<strong>{}</strong><br>{}<br><em>{}</em>", scenario.title, scenario.text, obj.item.text
        )

    @admin.action(description="Mark reviewed by me")
    def mark_reviewed_by_me(self, request, queryset):
        changed = mark_reviewed(translations=queryset, reviewer=request.user)
        self.message_user(request, f"{changed} translation(s) marked reviewed by you.")

    @admin.action(description="Mark reviewed and back-translated by me")
    def mark_back_translated_by_me(self, request, queryset):
        changed = mark_reviewed(
            translations=queryset,
            reviewer=request.user,
            status=ItemTranslation.Status.BACK_TRANSLATED,
        )
        self.message_user(request, f"{changed} translation(s) marked back-translated by you.")

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="survey_itemtranslation_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload one language's CSV: every row is checked and nothing is stored unless all
        pass (the problems are listed with their lines)."""
        if not request.user.has_perm("survey.add_itemtranslation"):
            raise PermissionDenied("Importing translations needs the permission to add them.")
        form = TranslationImportForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8")
                result = import_translations(
                    language=form.cleaned_data["language"],
                    csv_text=text,
                    default_reviewer=request.user.get_username()
                    if form.cleaned_data["reviewed_by_me"]
                    else "",
                )
            except UnicodeDecodeError:
                problems = ["the file is not UTF-8 text"]
            except TranslationImportError as error:
                problems = error.errors
            else:
                self.message_user(
                    request,
                    f"{result.language}: {result.created} created, {result.updated} updated, "
                    f"{result.unchanged} unchanged, {result.skipped} rows without translation "
                    "skipped.",
                    messages.SUCCESS,
                )
                return redirect("admin:survey_itemtranslation_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import item translations",
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(
            request,
            "admin/survey/itemtranslation/import.html",
            context,
            status=400 if problems else 200,
        )

    @admin.action(description="Download the selected rows' language as CSV (every item)")
    def export_language_csv(self, request, queryset):
        languages = sorted(set(queryset.values_list("language", flat=True)))
        if len(languages) != 1:
            self.message_user(
                request, "Select translations of one language to download.", messages.ERROR
            )
            return None
        response = HttpResponse(
            rows_to_csv(translation_table(language=languages[0])), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="translations-{languages[0]}.csv"'
        return response


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "wording_status", "wording_version", "loaded_at"]
    readonly_fields = ["code", "is_placeholder", "loaded_at", "key_summary"]
    inlines = [InstrumentItemInline]

    @admin.display(description="Wording")
    def wording_status(self, obj):
        if obj.is_placeholder:
            return format_html('<strong style="color:#8a5a00">{}</strong>', "placeholder wording")
        return "licensed wording loaded"

    @admin.display(description="Scoring key")
    def key_summary(self, obj):
        key = obj.key
        parts = [
            f"{key.n_items} items, scale {key.scale_min}–{key.scale_max}, forms {', '.join(key.forms)}"
        ]
        for family, members in key.families.items():
            parts.append(
                family + ": " + "; ".join(f"{n} {list(items)}" for n, items in members.items())
            )
        if key.reverse_items:
            parts.append(f"reverse-keyed: {sorted(key.reverse_items)}")
        return format_html("<br>".join(["{}"] * len(parts)), *parts)


@admin.action(description="Open selected studies to participants")
def open_studies(modeladmin, request, queryset):
    for study in queryset:
        study.status = Study.Status.OPEN
        reason = study.refusal_reason()
        if reason:
            modeladmin.message_user(request, f"{study}: not opened. {reason}", messages.ERROR)
            continue
        study.save(update_fields=["status", "updated_at"])
        modeladmin.message_user(request, f"{study}: open.", messages.SUCCESS)


@admin.action(description="Pause selected studies")
def pause_studies(modeladmin, request, queryset):
    n = queryset.update(status=Study.Status.PAUSED)
    modeladmin.message_user(request, f"{n} study(ies) paused.")


@admin.action(description="Close selected studies")
def close_studies(modeladmin, request, queryset):
    n = queryset.update(status=Study.Status.CLOSED)
    modeladmin.message_user(request, f"{n} study(ies) closed.")


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "status",
        "pool_size",
        "participant_count",
        "researcher_pages",
        "created_at",
    ]
    list_filter = ["status", "is_imported"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["item_pool", "instruments"]
    actions = [open_studies, pause_studies, close_studies]
    fieldsets = [
        (None, {"fields": ["title", "slug", "description", "status"]}),
        (
            "Items",
            {
                "fields": [
                    "item_pool",
                    "items_per_participant",
                    "target_ratings_per_item",
                    "time_limit_minutes",
                ]
            },
        ),
        (
            "Questionnaires",
            {
                "fields": [
                    "instruments",
                    "pvq_form",
                    "allow_placeholder_wording",
                    "demographic_fields",
                ]
            },
        ),
        (
            "Participants and Prolific",
            {
                "fields": [
                    "consent_text",
                    "uses_prolific",
                    "completion_code",
                    "no_consent_code",
                    "screened_out_code",
                    "completion_redirect_url",
                ]
            },
        ),
        (
            "Languages",
            {
                "description": "The study's language, the further languages participants may "
                "choose (a link may carry ?lang=de), and the study's own texts per language.",
                "fields": ["language", "languages", "translations"],
            },
        ),
        (
            "Quality control",
            {
                "fields": [
                    "attention_check_count",
                    "attention_check_wording",
                    "attention_failures_to_screen_out",
                    "speeder_fraction",
                    "min_seconds_per_item",
                    "min_seconds_per_question",
                    "fast_reading_wpm",
                    "straightlining_threshold",
                    "questions_per_page",
                ]
            },
        ),
        ("Analysis", {"fields": ["exclude_flagged_participants", "is_imported"]}),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .listed()
            .annotate(
                _pool=Count("item_pool", distinct=True),
                _participants=Count("participants", distinct=True),
            )
        )

    @admin.display(description="Items in pool", ordering="_pool")
    def pool_size(self, obj):
        return obj._pool

    @admin.display(description="Participants", ordering="_participants")
    def participant_count(self, obj):
        return obj._participants

    @admin.display(description="Study pages")
    def researcher_pages(self, obj):
        return format_html(
            '<a href="{}">overview</a> · <a href="{}">monitor</a>',
            reverse("studies:detail", args=[obj.slug]),
            reverse("studies:monitor", args=[obj.slug]),
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        study = form.instance
        if study.status == Study.Status.OPEN:
            reason = study.refusal_reason()
            if reason:
                Study.objects.filter(pk=study.pk).update(status=Study.Status.DRAFT)
                self.message_user(request, f"Kept as draft: {reason}", messages.WARNING)


class RawIdMixin:
    """Hide raw panel ids from staff without ``survey.view_raw_participant_ids``."""

    def can_see_raw_ids(self, request) -> bool:
        return request.user.has_perm("survey.view_raw_participant_ids")


@admin.action(
    description="Erase selected participants' data on their request (keeps an audit record)",
    permissions=["delete"],
)
def erase_selected(modeladmin, request, queryset):
    records = erase_participants(
        participants=queryset,
        identified_by=ErasureRecord.IdentifiedBy.ADMIN_SELECTION,
        performed_by=request.user,
    )
    modeladmin.message_user(
        request,
        f"Erased {len(records)} participant(s); audit records "
        + ", ".join(f"#{r.pk}" for r in records)
        + ".",
        messages.SUCCESS,
    )


@admin.register(Participant)
class ParticipantAdmin(RawIdMixin, admin.ModelAdmin):
    actions = [erase_selected]
    list_display = [
        "pseudonym",
        "study",
        "status",
        "origin",
        "language",
        "started_at",
        "completed_at",
        "flag_list",
    ]
    list_filter = ["study", "status", "origin", "language"]
    search_fields = ["pseudonym"]
    readonly_fields = ["pseudonym", "started_at", "consented_at", "completed_at", "last_seen_at"]

    def get_list_display(self, request):
        cols = list(super().get_list_display(request))
        if self.can_see_raw_ids(request):
            cols.insert(1, "external_id")
        return cols

    def get_search_fields(self, request):
        fields = list(super().get_search_fields(request))
        if self.can_see_raw_ids(request):
            fields.append("external_id")
        return fields

    def get_exclude(self, request, obj=None):
        if self.can_see_raw_ids(request):
            return []
        return ["external_id", "prolific_study_id", "prolific_session_id"]

    @admin.display(description="Flags")
    def flag_list(self, obj):
        return ", ".join(obj.flags) or "—"


@admin.register(ItemRating)
class ItemRatingAdmin(admin.ModelAdmin):
    list_display = ["participant", "item", "rating", "created_at", "response_time_ms"]
    list_filter = ["participant__study"]
    raw_id_fields = ["participant", "item"]
    list_select_related = ["participant__study", "item__scenario"]


@admin.register(InstrumentResponse)
class InstrumentResponseAdmin(admin.ModelAdmin):
    list_display = ["participant", "instrument", "item_number", "value", "created_at"]
    list_filter = ["instrument", "participant__study"]
    raw_id_fields = ["participant"]
    list_select_related = ["participant__study", "instrument"]


@admin.register(ParticipantScore)
class ParticipantScoreAdmin(admin.ModelAdmin):
    list_display = ["participant", "family", "dimension", "score", "raw_score", "origin"]
    list_filter = ["family", "origin", "participant__study"]
    raw_id_fields = ["participant"]
    list_select_related = ["participant__study"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read-only view of item leases and attention checks (written only by the flow)."""

    list_display = [
        "participant",
        "position",
        "kind",
        "item",
        "expected_value",
        "given_value",
        "expires_at",
        "released_at",
        "completed_at",
    ]
    list_filter = ["kind", "participant__study"]
    raw_id_fields = ["participant", "item"]
    list_select_related = ["participant__study", "item__scenario"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProlificStudy)
class ProlificStudyAdmin(admin.ModelAdmin):
    """A study's Prolific settings. The token itself is never entered here: only the name of
    the environment variable that holds it on the server."""

    list_display = ["study", "prolific_study_id", "prolific_status", "reward_cents", "places"]
    fields = [
        "study",
        "api_token_env",
        "reward_cents",
        "places",
        "estimated_minutes",
        "prolific_study_id",
        "prolific_status",
        "synced_at",
    ]
    readonly_fields = ["prolific_study_id", "prolific_status", "synced_at"]


@admin.register(ProlificAction)
class ProlificActionAdmin(admin.ModelAdmin):
    """The log of what was sent to Prolific: read-only."""

    list_display = ["created_at", "study", "user", "kind", "outcome"]
    list_filter = ["kind", "outcome"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ErasureRequestForm(forms.Form):
    identifier = forms.CharField(
        label="Prolific id or participant code",
        max_length=128,
        help_text="The PROLIFIC_PID the participant wrote from, or the participant code "
        "(P-…) their completion page showed.",
    )
    study = forms.ModelChoiceField(
        queryset=Study.objects.listed(),
        required=False,
        help_text="Leave empty to erase this person in every study.",
    )
    note = forms.CharField(
        required=False,
        max_length=200,
        help_text="A reference for the request (a ticket number), without personal data.",
    )


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """The audit trail (read only); "Erase a participant's data" performs a request."""

    list_display = [
        "erased_at",
        "study_slug",
        "identified_by",
        "participant_status",
        "performed_by",
    ]
    list_filter = ["identified_by", "study_slug"]
    readonly_fields = [f.name for f in ErasureRecord._meta.fields]
    change_list_template = "admin/survey/erasurerecord/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "erase/",
                self.admin_site.admin_view(self.erase_view),
                name="survey_erasurerecord_erase",
            ),
            *super().get_urls(),
        ]

    def erase_view(self, request):
        if not request.user.has_perm("survey.delete_participant"):
            raise PermissionDenied("Erasing needs the permission to delete participants.")
        form = ErasureRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                records = erase_by_identifier(
                    identifier=form.cleaned_data["identifier"],
                    study=form.cleaned_data["study"],
                    performed_by=request.user,
                    note=form.cleaned_data["note"],
                )
            except NobodyToErase as error:
                form.add_error("identifier", str(error))
            else:
                self.message_user(
                    request,
                    f"Erased {len(records)} participant record(s) in "
                    + ", ".join(sorted({r.study_slug for r in records}))
                    + ".",
                    messages.SUCCESS,
                )
                return redirect("admin:survey_erasurerecord_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Erase a participant's data",
            "form": form,
        }
        return TemplateResponse(request, "admin/survey/erasurerecord/erase.html", context)
