from django.contrib import admin
from django.db import models

from .models import (
    CachedResponse,
    EvaluationRun,
    ModelConfiguration,
    PortraitScore,
    PromptTemplate,
    Response,
    Sweep,
)


@admin.register(ModelConfiguration)
class ModelConfigurationAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "model_id", "base_url", "api_key_env", "max_concurrency"]
    list_filter = ["provider"]
    search_fields = ["name", "model_id"]
    # A base URL typed without a scheme means HTTPS (as on the staff page's form).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    list_display = ["set_name", "set_version", "variant", "style", "origin"]
    list_filter = ["set_name", "style"]


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "label", "kind", "model_config", "item_set", "status", "created_at"]
    list_filter = ["status", "kind", "model_config"]
    readonly_fields = [
        "params", "summary", "started_at", "finished_at", "created_by", "parameters_fingerprint",
    ]  # fmt: skip


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "created_by", "created_at"]
    readonly_fields = ["spec", "runs", "created_by", "created_at"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["run", "item", "variant", "repetition", "persona", "state", "rating", "cached"]
    list_filter = ["state", "cached", "variant"]
    raw_id_fields = ["run", "item"]


@admin.register(PortraitScore)
class PortraitScoreAdmin(admin.ModelAdmin):
    list_display = ["run", "persona", "basis", "family", "dimension", "centred", "raw", "n"]
    list_filter = ["basis", "family"]


@admin.register(CachedResponse)
class CachedResponseAdmin(admin.ModelAdmin):
    list_display = ["key", "provider", "model_id", "hits", "created_at"]
    list_filter = ["provider"]
    readonly_fields = ["key", "payload"]
