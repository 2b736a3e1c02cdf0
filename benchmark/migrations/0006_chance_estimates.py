from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("benchmark", "0005_analysis_minimums")]

    operations = [
        migrations.AddField(
            model_name="correlationrun",
            name="chance",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The paper preset's expected chance selections (permutations of whole "
                "value profiles) and split-half replication, and the threshold bounding the "
                "chance share; computed after the run (benchmark.estimates), empty until then.",
            ),
        ),
        migrations.AddField(
            model_name="validateditemset",
            name="chance",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="Expected chance selections of the set's rule (mean, SD over seeded "
                "permutations of whole value profiles) and split-half replication, computed "
                "when the set was frozen; the threshold search when the rule bounds the "
                "chance share.",
            ),
        ),
    ]
