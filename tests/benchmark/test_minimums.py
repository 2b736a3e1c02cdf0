"""Per-study minimums: the pure ``TooFew`` value, its template filter and API form, the
settings that store them and ``minimums_for``."""

import math

import pytest
from django.template import Context, Template

from benchmark import minimums as mins
from benchmark.minimums import Minimums, TooFew, api_fields, checked, enough, too_few
from benchmark.models import StudyAnalysisSettings
from benchmark.selectors import minimums_for
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
