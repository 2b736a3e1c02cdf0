"""Per-study minimums: the pure ``TooFew`` value, its template filter and API form, the
settings that store them and ``minimums_for``."""

import math

import numpy as np
import pandas as pd
import pytest
from django.template import Context, Template

from benchmark import minimums as mins
from benchmark.minimums import (
    Minimums,
    TooFew,
    TooFewToSelect,
    api_fields,
    api_json,
    checked,
    enough,
    refuse_thin_selection,
    thin_pairs,
    too_few,
    withhold_thin_pairs,
)
from benchmark.models import StudyAnalysisSettings
from benchmark.selectors import minimums_for
from benchmark.stats.reliability import most_shared_respondents
from tests.factories import StudyFactory


def test_too_few_text_and_reason():
    value = too_few(2, 20, "reliability_respondents")
    assert str(value) == "too few: n = 2 of 20"
    assert value.reason.startswith("too few respondents: n = 2, at least 20 needed (")
    assert "Cronbach" in value.reason


def test_too_few_round_trips_through_json():
    value = too_few(3, 20, "raters_per_pair")
    stored = value.as_json()
    assert stored["too_few"] is True and stored["n"] == 3 and stored["required"] == 20
    assert TooFew.from_json(stored) == value
    assert TooFew.from_json({"alpha": 0.8}) is None
    assert TooFew.from_json(0.8) is None


def test_checked_passes_the_value_at_or_above_the_minimum():
    limits = Minimums(reliability_respondents=5)
    assert checked(0.7, n=5, minimums=limits, minimum="reliability_respondents") == 0.7
    below = checked(0.7, n=4, minimums=limits, minimum="reliability_respondents")
    assert below == too_few(4, 5, "reliability_respondents")
    missing = checked(0.7, n=None, minimums=limits, minimum="reliability_respondents")
    assert isinstance(missing, TooFew) and missing.n == 0


@pytest.mark.parametrize(
    ("n", "required", "expected"),
    [(20, 20, True), (19, 20, False), (None, 1, False), (float("nan"), 1, False), (21.0, 20, True)],
)
def test_enough(n, required, expected):
    assert enough(n, required) is expected


def test_minimums_refuse_zero_and_non_integers():
    with pytest.raises(ValueError, match="raters_per_pair"):
        Minimums(raters_per_pair=0)
    with pytest.raises(ValueError, match="group_participants"):
        Minimums(group_participants=2.5)


def test_api_fields_give_null_and_the_reason():
    assert api_fields("alpha", 0.81) == {"alpha": 0.81, "alpha_reason": None}
    withheld = api_fields("alpha", too_few(2, 20, "reliability_respondents"))
    assert withheld["alpha"] is None
    assert withheld["alpha_reason"].startswith("too few respondents: n = 2")
    stored = api_fields("r", too_few(2, 20, "raters_per_pair").as_json())
    assert stored["r"] is None and "raters" in stored["r_reason"]


def test_statistic_filter_renders_number_or_too_few():
    template = Template(
        "{% load minimums %}[{{ a|statistic:3 }}][{{ b|statistic:3 }}][{{ c|statistic }}]"
    )
    html = template.render(
        Context({"a": 0.81234, "b": too_few(2, 20, "reliability_respondents"), "c": math.nan})
    )
    assert "[0.812]" in html
    assert '<span class="too-few" title="too few respondents: n = 2, at least 20 needed' in html
    assert ">too few: n = 2 of 20</span>]" in html
    assert "[—]" in html


def test_statistic_filter_reads_stored_json():
    html = Template("{% load minimums %}{{ v|statistic:2 }}|{{ v|too_few_reason }}").render(
        Context({"v": too_few(7, 20, "raters_per_pair").as_json()})
    )
    assert "too few: n = 7 of 20" in html and "too few raters: n = 7" in html


def test_model_defaults_are_the_documented_ones(db):
    study = StudyFactory()
    assert minimums_for(study=study) == Minimums()  # nothing stored: the defaults
    assert Minimums() == Minimums(20, 20, 10, 20, 3)
    assert (mins.RATERS_PER_PAIR, mins.RELIABILITY_RESPONDENTS) == (20, 20)
    StudyAnalysisSettings.objects.create(
        study=study, min_raters_per_pair=5, min_items_per_dimension=2
    )
    limits = minimums_for(study=study)
    assert limits.raters_per_pair == 5 and limits.items_per_dimension == 2
    assert limits.reliability_respondents == 20


def test_admin_edits_the_minimums(db, client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(admin)
    study = StudyFactory()
    row = StudyAnalysisSettings.objects.create(study=study)
    page = client.get(f"/admin/benchmark/studyanalysissettings/{row.pk}/change/")
    assert page.status_code == 200
    for name in ("min_raters_per_pair", "min_reliability_respondents", "min_group_participants",
                 "min_percentile_humans", "min_items_per_dimension"):  # fmt: skip
        assert f'name="{name}"' in page.content.decode()


def _pairs(n, r):
    return pd.DataFrame({"n": n, "r": r, "p": [0.01] * len(n), "ci_low": [0.1] * len(n)})


def test_thin_pairs_marks_known_counts_below_the_minimum_only():
    assert thin_pairs([2, 19, 20, None, float("nan"), 50], 20).tolist() == [
        True, True, False, False, False, False,
    ]  # fmt: skip


def test_withhold_thin_pairs_blanks_statistics_and_gives_the_reason():
    out = withhold_thin_pairs(_pairs([2, 25, None], [1.0, 0.4, 0.35]), 20)
    assert (
        np.isnan(out.loc[0, "r"]) and np.isnan(out.loc[0, "p"]) and np.isnan(out.loc[0, "ci_low"])
    )
    assert out.loc[0, "r_reason"].startswith("too few raters: n = 2, at least 20 needed")
    assert out.loc[0, "too_few"] == too_few(2, 20, "raters_per_pair")
    assert out.loc[1, "r"] == 0.4 and out.loc[1, "r_reason"] is None
    assert out.loc[2, "r"] == 0.35  # n not published: cannot be checked, left as published
    empty = withhold_thin_pairs(pd.DataFrame(columns=["n", "r"]), 20)
    assert list(empty.columns) == ["n", "r", "too_few", "r_reason"]


def test_refuse_thin_selection_names_count_fewest_and_minimum():
    refuse_thin_selection(_pairs([20, 30], [0.5, 0.4]), 20)  # nothing thin: no error
    with pytest.raises(
        TooFewToSelect, match=r"select 2 pair\(s\) with fewer than 20 raters \(fewest: n = 3\)"
    ):
        refuse_thin_selection(_pairs([3, 19, 40], [0.9, 0.5, 0.4]), 20)


def test_api_json_replaces_every_too_few_by_null_and_reason():
    stored = {
        "Power": {
            "k": 4,
            "standardised_alpha": too_few(5, 20, "reliability_respondents").as_json(),
            "blocks": [{"n": 5, "alpha": too_few(5, 20, "reliability_respondents").as_json()}],
            "corrected_item_total": {"1/2": 0.4},
        }
    }
    out = api_json(stored)["Power"]
    assert out["k"] == 4 and out["standardised_alpha"] is None
    assert out["standardised_alpha_reason"].startswith("too few respondents: n = 5")
    assert out["blocks"][0]["alpha"] is None and "alpha_reason" in out["blocks"][0]
    assert out["corrected_item_total"] == {"1/2": 0.4}


def test_most_shared_respondents():
    nan = np.nan
    matrix = np.array([[1, 2, nan], [1, nan, 3], [2, 2, 3], [nan, 1, 1]], dtype=float)
    assert most_shared_respondents(matrix) == 2
    assert most_shared_respondents(matrix[:, :1]) == 0
