"""The item page's correlations respect each study's minimum raters per pair."""

import pytest
from django.urls import reverse

from benchmark.models import Correlation, CorrelationRun, StudyAnalysisSettings
from dashboards import selectors
from tests.dashboards.helpers import client_as
from tests.factories import ItemFactory, StudyFactory


@pytest.fixture
def item_with_runs(db):
    """One item correlated in two studies' runs: 5 raters (thin at the default 20) and 40,
    and 5 raters again in a study whose minimum is 5."""
    item = ItemFactory()
    thin_study, full_study, small_minimum = (StudyFactory(items=[item]) for _ in range(3))
    StudyAnalysisSettings.objects.create(study=small_minimum, min_raters_per_pair=5)
    for study, n, r in ((thin_study, 5, 0.91), (full_study, 40, 0.35), (small_minimum, 5, 0.72)):
        run = CorrelationRun.objects.create(study=study, status=CorrelationRun.Status.DONE)
        Correlation.objects.create(
            run=run, item=item, family="schwartz", dimension="Power", r=r, p=0.01, n=n
        )
    return item


def test_item_correlations_withhold_pairs_below_their_study_minimum(item_with_runs):
    frame = selectors.item_correlations(item=item_with_runs).set_index("n")
    by_r = selectors.item_correlations(item=item_with_runs)
    thin = by_r[by_r["r_reason"].notna()]
    assert len(thin) == 1 and thin.iloc[0]["n"] == 5 and thin.iloc[0]["p"] != thin.iloc[0]["p"]
    assert str(thin.iloc[0]["too_few"]) == "too few: n = 5 of 20"
    assert sorted(by_r["r"].dropna().tolist()) == [0.35, 0.72]
    assert frame.loc[40, "r_reason"] is None


def test_item_page_shows_too_few_for_a_thin_pair(client, item_with_runs):
    researcher = client_as(client, "researcher")
    body = researcher.get(reverse("dashboards:item", args=[item_with_runs.pk])).content.decode()
    assert "too few: n = 5 of 20" in body
    assert "0.910" not in body and "0.350" in body and "0.720" in body
