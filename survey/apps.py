from django.apps import AppConfig


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = "Survey: item bank, instruments, studies and participants"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from survey.models import Study
        from survey.services.ending import recompute_when_rules_change

        # Imported here: models and services need the app registry, which ready() waits for.
        post_save.connect(
            recompute_when_rules_change, sender=Study, dispatch_uid="survey.quality_rules"
        )
