"""Recomputing the release's correlations from the imported raw data reproduces the paper."""

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from benchmark.analysis import COLLISION_RULE
from benchmark.selectors import compare_runs, published_run
from benchmark.services import create_preset_item_set, recompute_now
from survey.models import Study

pytestmark = [pytest.mark.postgres, pytest.mark.shared_data]


@pytest.fixture
def recomputed(imported_release, settings):
    study = Study.objects.get(slug="valueportrait-2025")
    return study, recompute_now(study=study)


def test_recomputed_spearman_matches_published_outside_the_collision_group(recomputed, client):
    study, run = recomputed
    assert run.status == "done" and run.duration_seconds > 0
    comparison = compare_runs(reference=published_run(study=study), other=run)
    frame = comparison["frame"]
    assert len(frame) == 9880
    outside = frame[frame["release_group"] != 0]
    assert len(outside) == 9120
    assert np.nanmax(np.abs(outside["delta_r"])) <= 1e-12
    assert outside["identical"].all()  # bit for bit, as scipy.stats.spearmanr on the raw data
    assert np.nanmax(np.abs(outside["delta_p"])) <= 1e-12
    inside = frame[frame["release_group"] == 0]
    assert len(inside) == 760
    # The collision group differs, and the comparison reports it instead of hiding it.
    assert (~inside["within_tolerance"]).sum() > 0
    group0 = next(g for g in comparison["by_group"] if g["release_group"] == 0)
    assert group0["different"] == int((~inside["within_tolerance"]).sum())
    assert group0["max_abs_delta_r"] > 1e-6
    assert comparison["summary"]["different"] == group0["different"]
    assert comparison["worst"][0]["portrait_id"] in set(inside["scenario_external_id"])
    # The staff page shows the remaining differences, not only the agreement.
    client.force_login(User.objects.create_superuser("boss", "b@example.org", "pw"))
    page = client.get(reverse("benchmark:run", args=[study.slug, run.pk]))
    assert page.context["comparison"]["summary"]["max_abs_delta_r"] == group0["max_abs_delta_r"]
    html = page.content.decode()
    assert 'id="max-delta-r"' in html and "P186" in html
    worst = comparison["worst"][0]
    assert f"{worst['portrait_id']}/{worst['option_id']}" in html


def test_collision_rule_leaves_out_p186_group_0_ratings_and_records_why(recomputed):
    _, run = recomputed
    dropped = run.exclusions["ratings"]
    assert dropped == [
        {
            "participant": "P186",
            "release_group": 0,
            "profile_group": 5,
            "ratings": 40,
            "reason": COLLISION_RULE,
        }
    ]
    # P186 still counts in group 5, where its profile belongs.
    rows = run.rows.filter(item__scenario__metadata__release_group=5, dimension="Power")
    assert set(rows.values_list("n", flat=True)) == {48}
    rows0 = run.rows.filter(item__scenario__metadata__release_group=0, dimension="Power")
    assert set(rows0.values_list("n", flat=True)) == {45}
    assert run.n_participants == 559


def test_paper_preset_on_recomputed_run_selects_nearly_the_published_set(recomputed):
    study, run = recomputed
    published = create_preset_item_set(run=published_run(study=study))
    mine = create_preset_item_set(run=run)
    pairs = lambda s: set(s.entries.values_list("item_id", "dimension"))  # noqa: E731
    outside = set(
        run.rows.exclude(item__scenario__metadata__release_group=0).values_list(
            "item_id", "dimension"
        )
    )
    assert pairs(mine) & outside == pairs(published) & outside
    assert mine.reliability["Power"]["k"] == mine.entries.filter(dimension="Power").count()
