"""Demo data for the benchmark app, called by ``manage.py load_demo`` (idempotent, fast)."""

from __future__ import annotations

from survey.models import Participant, Study

from .models import CorrelationRun, StudyAnalysisSettings
from .selectors import latest_computed_run
from .services import recompute_now

DEMO_STUDY_SLUG = "demo"


def load_demo(stdout=None) -> None:
    """Give the demo study analysis settings (recompute after 5 completions) and, once it
    has completed participants but no computed run, compute its correlations now."""
    study = Study.objects.filter(slug=DEMO_STUDY_SLUG).first()
    if study is None:
        return
    StudyAnalysisSettings.objects.get_or_create(
        study=study, defaults={"recompute_after_completions": 5, "bootstrap_resamples": 100}
    )
    completed = study.participants.filter(status=Participant.Status.COMPLETED).count()
    if completed >= 3 and latest_computed_run(study=study) is None:
        run = recompute_now(study=study, method=CorrelationRun.Method.SPEARMAN)
        if stdout:
            stdout.write(f"benchmark: demo correlations computed (run #{run.pk})\n")
    elif stdout:
        stdout.write(
            f"benchmark: demo study has {completed} completed participant(s); correlations are "
            "recomputed automatically after every 5 completions\n"
        )
