"""What the dashboards know about a model beyond its configuration: its model card.

The evaluation app's ``ModelConfiguration`` says how to call a model; the comparison page
also filters by model family, size, open or closed weights and release date. These live
here, one card per configuration, edited in the admin (or via the API).
"""

from django.db import models


class ModelCard(models.Model):
    model_config = models.OneToOneField(
        "evaluation.ModelConfiguration", on_delete=models.CASCADE, related_name="card"
    )
    family = models.CharField(
        max_length=100, blank=True, help_text="Model family, e.g. GPT-4o, Claude 3.5, Llama 3.1."
    )
    developer = models.CharField(max_length=100, blank=True, help_text="e.g. OpenAI, Meta.")
    parameters_billion = models.FloatField(
        null=True, blank=True, help_text="Parameter count in billions (empty when undisclosed)."
    )
    open_weights = models.BooleanField(
        null=True, blank=True, help_text="Weights published (open) or not (closed); empty: unknown."
    )
    release_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["model_config__name"]

    def __str__(self) -> str:
        return f"Card of {self.model_config}"
