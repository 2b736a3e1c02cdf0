"""Demo data for the benchmark app, called by ``manage.py load_demo`` (idempotent, fast).

The demo study's participants are ten scripted bots answering at random, about eight
raters per item: far below the project's minimums (20 raters per pair, 20 respondents for
reliability, 10 per group, 20 humans for a percentile), under which every number would read
"too few". So the demo study, and only it, gets **demo minimums** (``DEMO_MINIMUMS``), and its
correlation run and the item set frozen from it are labelled as demo data: they show what the
pages do, and their numbers mean nothing.
"""

from __future__ import annotations

import io
from typing import TextIO

from survey.models import Participant, Study

from .models import CorrelationRun, StudyAnalysisSettings, ValidatedItemSet
from .selection import SelectionRule
from .selectors import latest_computed_run
from .services import create_item_set, recompute_now

DEMO_STUDY_SLUG = "demo"
DEMO_ITEM_SET = "demo-items"
# Low on purpose, for ten random bots; a real study keeps the defaults (benchmark.minimums).
DEMO_MINIMUMS = {
    "min_raters_per_pair": 5,
    "min_reliability_respondents": 5,
    "min_group_participants": 3,
    "min_percentile_humans": 5,
    "min_items_per_dimension": 2,
}
DEMO_RULE = SelectionRule(threshold=0.3, mode="pos")  # loose: every value gets items


def load_demo(stdout: TextIO | None = None) -> None:
    """Give the demo study its demo settings, compute its correlations once it has finished
    participants and no computed run, and freeze the demo item set from that run."""
    out = stdout or io.StringIO()  # called without a place to report: nothing said
    study = Study.objects.filter(slug=DEMO_STUDY_SLUG).first()
    if study is None:
        return
    StudyAnalysisSettings.objects.update_or_create(
        study=study,
        defaults={"recompute_after_completions": 5, "bootstrap_resamples": 100, **DEMO_MINIMUMS},
    )
    completed = Participant.objects.counted(study).count()
    run = latest_computed_run(study=study)
    if run is None and completed >= 3:
        run = recompute_now(study=study, method=CorrelationRun.Method.SPEARMAN)
        CorrelationRun.objects.filter(pk=run.pk).update(
            label=f"Demo data: Spearman from {completed} scripted participants"
        )
        out.write(f"benchmark: demo correlations computed (run #{run.pk})")
    if run is None:
        out.write(f"benchmark: demo study has {completed} counted participant(s); no run yet")
        return
    if not ValidatedItemSet.objects.filter(name=DEMO_ITEM_SET, study=study).exists():
        try:
            item_set = create_item_set(
                run=run, rule=DEMO_RULE, name=DEMO_ITEM_SET, chance_permutations=50
            )
        except ValueError as refused:  # the bots' random answers selected nothing usable
            out.write(f"benchmark: no demo item set: {refused}")
            return
        out.write(
            f"benchmark: demo item set {item_set} frozen ({item_set.entries.count()} pairs, "
            "demo data)",
        )
