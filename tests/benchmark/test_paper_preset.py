"""The paper preset applied to the imported published correlations gives the published set."""

import pandas as pd
import pytest

from benchmark.selection import PRESETS, SelectionRule, select_pairs
from benchmark.selectors import item_set_entries, published_run
from benchmark.services import create_preset_item_set
from survey.models import Study

PUBLISHED_COUNTS = {
    "Conformity": 23,
    "Tradition": 12,
    "Benevolence": 13,
    "Universalism": 15,
    "Self_Direction": 11,
    "Stimulation": 43,
    "Hedonism": 33,
    "Achievement": 56,
    "Power": 64,
    "Security": 14,
    "Self_Enhancement": 66,
    "Self_Transcendence": 16,
    "Conservation": 22,
    "Openness_to_Change": 11,
    "Extraversion": 36,
    "Agreeableness": 92,
    "Conscientiousness": 72,
    "Neuroticism": 5,
    "Openness": 22,
}


@pytest.mark.postgres
@pytest.mark.shared_data
def test_paper_preset_on_published_correlations_gives_the_published_selection(imported_release):
    study = Study.objects.get(slug="valueportrait-2025")
    item_set = create_preset_item_set(run=published_run(study=study))
    entries = item_set_entries(item_set=item_set)
    assert len(entries) == 626
    assert entries["item_id"].nunique() == 317
    assert entries.groupby("dimension").size().to_dict() == PUBLISHED_COUNTS
    assert (item_set.name, item_set.version, item_set.preset) == (
        "valueportrait-2025",
        1,
        "valueportrait-2025",
    )
    assert create_preset_item_set(run=published_run(study=study)).version == 2  # never in place


def _frame(rows):
    return pd.DataFrame(
        rows, columns=["scenario_external_id", "option_id", "family", "dimension", "r"]
    )


def test_selection_modes_are_strict_and_skip_undefined_r():
    frame = _frame(
        [
            ("1", 1, "schwartz", "Power", 0.3),
            ("1", 2, "schwartz", "Power", 0.31),
            ("1", 3, "schwartz", "Power", -0.5),
            ("1", 4, "schwartz", "Power", float("nan")),
            ("1", 5, "pvq_rr19", "Face", 0.9),
        ]
    )
    pos = select_pairs(frame, SelectionRule(mode="pos"))
    assert pos["option_id"].tolist() == [2]
    assert select_pairs(frame, SelectionRule(mode="neg"))["option_id"].tolist() == [3]
    assert select_pairs(frame, SelectionRule(mode="abs"))["option_id"].tolist() == [2, 3]
    assert select_pairs(frame, SelectionRule(mode="abs", families=("pvq_rr19",)))[
        "option_id"
    ].tolist() == [5]


def test_preset_exclusions_leave_out_exactly_their_pairs():
    frame = _frame(
        [
            ("3902", 4, "schwartz", "Achievement", 0.35),
            ("3902", 4, "schwartz", "Power", 0.35),
            ("2901", 4, "big_five", "Extraversion", 0.4),
        ]
    )
    kept = select_pairs(frame, PRESETS["valueportrait-2025"])
    assert kept[["scenario_external_id", "dimension"]].values.tolist() == [["3902", "Power"]]


def test_invalid_rules_are_refused():
    with pytest.raises(ValueError):
        SelectionRule(mode="both")
    with pytest.raises(ValueError):
        SelectionRule(threshold=1.5)
    with pytest.raises(ValueError):
        SelectionRule(families=("moods",))


def test_fdr_and_ci_criteria_narrow_the_selection():
    frame = _frame(
        [
            ("1", 1, "schwartz", "Power", 0.5),
            ("1", 2, "schwartz", "Power", 0.4),
            ("1", 3, "schwartz", "Power", 0.35),
            ("1", 4, "schwartz", "Power", -0.6),
        ]
    ).assign(
        p_bh=[0.001, 0.2, 0.01, 0.001],
        p_by=[0.004, 0.5, 0.06, 0.004],
        ci_low=[0.35, 0.1, 0.05, -0.8],
        ci_high=[0.6, 0.6, 0.5, -0.4],
    )
    fdr = select_pairs(frame, SelectionRule(fdr_alpha=0.05))
    assert fdr["option_id"].tolist() == [1, 3]
    by = select_pairs(frame, SelectionRule(fdr_alpha=0.05, fdr_method="by"))
    assert by["option_id"].tolist() == [1]
    ci = select_pairs(frame, SelectionRule(ci_bound=0.3))
    assert ci["option_id"].tolist() == [1]
    both_sides = select_pairs(frame, SelectionRule(mode="abs", ci_bound=0.3))
    assert both_sides["option_id"].tolist() == [1, 4]
    with pytest.raises(ValueError, match="no BH adjusted"):
        select_pairs(frame.drop(columns=["p_bh"]), SelectionRule(fdr_alpha=0.05))
    with pytest.raises(ValueError, match="confidence intervals"):
        select_pairs(frame.drop(columns=["ci_low"]), SelectionRule(ci_bound=0.3))
    with pytest.raises(ValueError):
        SelectionRule(fdr_alpha=1.5)
