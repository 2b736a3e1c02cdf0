"""Batches planned before submission keys existed and not yet sent get a key, so that they
too are submitted write-ahead (batches already at the provider keep no key: their custom ids
stay ``u<index>``, which is how their results come back)."""

import uuid

from django.db import migrations


def key_pending_batches(apps, schema_editor):
    ProviderBatch = apps.get_model("evaluation", "ProviderBatch")
    pending = ProviderBatch.objects.filter(status="pending", submission_key="")
    for pk in pending.values_list("pk", flat=True):
        # The same form as evaluation.providers.batch.new_submission_key (a migration does
        # not import the app's code, which may change).
        ProviderBatch.objects.filter(pk=pk, submission_key="").update(
            submission_key="vp" + uuid.uuid4().hex
        )


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0011_batch_submission_key")]

    operations = [migrations.RunPython(key_pending_batches, migrations.RunPython.noop)]
