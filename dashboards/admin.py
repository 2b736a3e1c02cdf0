from django.contrib import admin

from .models import ModelCard


@admin.register(ModelCard)
class ModelCardAdmin(admin.ModelAdmin):
    list_display = [
        "model_config",
        "family",
        "developer",
        "parameters_billion",
        "open_weights",
        "release_date",
    ]
    list_filter = ["open_weights", "family"]
    search_fields = ["model_config__name", "family", "developer"]
