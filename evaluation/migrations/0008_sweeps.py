import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from evaluation.fingerprints import parameters_fingerprint


def fingerprint_started_runs(apps, schema_editor):
    """Runs started before fingerprints existed get theirs from their frozen parameters, so
    a sweep skips them when done (drafts get one when they start)."""
    EvaluationRun = apps.get_model("evaluation", "EvaluationRun")
    for run in EvaluationRun.objects.exclude(params={}).iterator():
        run.parameters_fingerprint = parameters_fingerprint(
            model_config_id=run.model_config_id,
            generation_params=run.params,
            item_set_id=run.item_set_id,
            template_set=run.template_set,
            template_set_version=run.template_set_version,
            variants=list(run.variants),
            personas=list(run.personas),
            repetitions=run.repetitions,
            scoring=run.scoring,
            invalid_retries=run.invalid_retries,
            reask_follow_up=run.reask_follow_up,
            min_valid_probability=run.min_valid_probability,
        )
        run.save(update_fields=["parameters_fingerprint"])


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0007_run_reask_follow_up"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="evaluationrun",
            name="parameters_fingerprint",
            field=models.CharField(
                blank=True,
                db_index=True,
                help_text="What decides the answers, hashed: runs with equal fingerprints ask "
                "the same (see evaluation.fingerprints).",
                max_length=64,
            ),
        ),
        migrations.CreateModel(
            name="Sweep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200)),
                (
                    "spec",
                    models.JSONField(help_text="The sweep file as given (TOML read into JSON)."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "runs",
                    models.ManyToManyField(
                        blank=True, related_name="sweeps", to="evaluation.evaluationrun"
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.RunPython(fingerprint_started_runs, migrations.RunPython.noop),
    ]
