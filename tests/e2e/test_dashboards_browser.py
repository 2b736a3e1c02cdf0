"""End-to-end: a researcher's dashboards in headless Debian Chromium, with real data.

The release is imported (569 participants, published correlations), the paper's three
models are imported as reference runs, and a few runs are added through the evaluation
app's scoring service: two live models and a persona run, compared with a second study of
participants who gave demographics. Each dashboard is loaded in the browser; the test checks
that Plotly drew the expected traces into the SVG, that the downloads work, and (with
``VP_SCREENSHOTS=1``) saves the README screenshots ``docs/screenshots/dashboards-*.png``.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from django.test import Client

from evaluation.models import EvaluationRun
from evaluation.reference_import import import_model_outputs
from survey.models import ItemRating, Study
from tests.dashboards import builders
from tests.dashboards.helpers import make_user
from tests.factories import StudyFactory

from .conftest import save_screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.shared_data,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

DESKTOP = {"viewport": {"width": 1280, "height": 900}, "accept_downloads": True}
REFERENCE_MODELS = ["claude-3-5-sonnet-20241022", "gpt-4o-2024-11-20", "llama-3.1-8b-instruct"]
AGES = (24, 37, 52, 66)
GENDERS = ("female", "male")


@pytest.fixture
def results(imported_release, release_dir):
    """The release, its three reference models, two live runs and a persona run."""
    reference = import_model_outputs(directory=release_dir / "lm_evaluation")
    item_set = reference[0].item_set
    rng = np.random.default_rng(2025)
    builders.model_run(
        item_set=item_set,
        name="open-8b-instruct",
        base={"Benevolence": 5.2, "Universalism": 5.0, "Power": 2.0, "Achievement": 3.0},
        rng=rng,
        card={"family": "Open", "parameters_billion": 8, "open_weights": True},
    )
    builders.model_run(
        item_set=item_set,
        name="closed-large",
        provider="anthropic",
        base={"Benevolence": 5.5, "Security": 4.8, "Tradition": 2.5, "Power": 1.8},
        rng=rng,
        card={"family": "Closed", "parameters_billion": 400, "open_weights": False},
    )
    persona_run = builders.model_run(
        item_set=item_set,
        name="open-8b-instruct",
        base={"Benevolence": 5.2, "Universalism": 5.0, "Power": 2.0, "Achievement": 3.0},
        rng=rng,
        personas=[{"gender": "woman"}, {"gender": "man"}],
        persona_shift={"gender=man": {"Power": 1.5, "Achievement": 1.0}},
    )
    panel = StudyFactory(slug="demographic-panel", title="Demographic panel", status="closed")
    panel_people = builders.participants_with_scores(
        study=panel,
        n=120,
        rng=rng,
        demographics=lambda i: {"gender": GENDERS[i % 2], "age": AGES[i % 4], "country": "UK"},
    )
    # The panel rates some of the persona run's items, so each group has a portrait on them.
    builders.participant_ratings(item_set=item_set, people=panel_people, rng=rng, share=0.3)
    # Our own items (factory text, never the release's) for the item screenshots.
    own_set = builders.small_item_set(study=panel, items_per_value=1)
    builders.model_run(item_set=own_set, name="open-8b-instruct", base={}, rng=rng)
    builders.model_run(item_set=own_set, name="closed-large", base={"Power": 2.0}, rng=rng)
    people = list(panel.participants.all()[:30])
    ItemRating.objects.bulk_create(
        [
            ItemRating(participant=person, item_id=item_id, rating=int(rng.integers(1, 7)))
            for item_id in own_set.entries.values_list("item_id", flat=True)
            for person in people
        ]
    )
    return {"reference": reference, "persona_run": persona_run, "panel": panel}


def _logged_in_context(new_context, base_url: str):
    client = Client()
    client.force_login(make_user("researcher"))
    context = new_context(**DESKTOP)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
    )
    return context


TICKS_TOP_DOWN = """(chart) => Array.from(document.querySelectorAll(chart + ' g.ytick text'))
    .map((t) => [t.getBoundingClientRect().top, t.textContent])
    .sort((a, b) => a[0] - b[0]).map((pair) => pair[1])"""


def _wait_for_charts(page, count: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('[data-chart][data-rendered=\"1\"]').length >= {count}",
        timeout=20000,
    )
    assert page.locator('[data-chart][data-rendered="error"]').count() == 0


def _legend(page, chart_id: str) -> list[str]:
    return page.locator(f"#{chart_id} svg.main-svg g.legend text.legendtext").all_text_contents()


def test_researcher_sees_the_dashboards_with_real_data(results, live_server, new_context):
    base = live_server.url
    page = _logged_in_context(new_context, base).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # --- Compare models: the three published models among the runs, radar + heat map
    page.goto(f"{base}/dashboards/models/")
    _wait_for_charts(page, 2)
    radar_legend = _legend(page, "compare-radar")
    for name in REFERENCE_MODELS + ["open-8b-instruct", "closed-large"]:
        assert name in radar_legend
    assert page.locator("#compare-radar svg.main-svg g.scatterlayer g.trace").count() == 5
    # Every model on the same items: the release's item set, which most models ran on.
    chosen_set = page.locator("select[name=item_set] option:checked").inner_text()
    assert chosen_set.startswith("valueportrait-2025")
    heat_rows = page.locator("#compare-heatmap svg.main-svg g.heatmaplayer image").count()
    assert heat_rows == 1  # Plotly draws the heat map as one image
    y_ticks = page.locator("#compare-heatmap svg.main-svg g.ytick text").all_text_contents()
    assert sorted(y_ticks) == sorted(REFERENCE_MODELS + ["open-8b-instruct", "closed-large"])
    # Sort the heat map by Power: the highest Power model comes first.
    page.select_option("#compare-heatmap select", label="Power")
    page.wait_for_function("document.querySelector('#compare-heatmap').dataset.sortedBy")
    # Tick labels from top to bottom of the drawn SVG.
    sorted_ticks = page.evaluate(TICKS_TOP_DOWN, "#compare-heatmap")
    power = {
        row.locator("td").first.inner_text(): float(row.locator("td").nth(5).inner_text())
        for row in page.locator("#compare-table tbody tr").all()
    }
    assert page.locator("#compare-table thead th").nth(5).inner_text() == "Power"
    assert sorted_ticks[0] == max(power, key=power.get)
    save_screenshot(page, "dashboards-compare")

    # CSV download of the heat map's data; SVG image via Plotly.
    with page.expect_download() as download_info:
        page.locator("#compare-heatmap .chart-button", has_text="CSV").click()
    rows = list(csv.reader(io.StringIO(download_info.value.path().read_text())))
    assert rows[0][0] == "model" and len(rows) == 1 + 5
    with page.expect_download() as download_info:
        page.locator("#compare-radar .chart-button", has_text="SVG").click()
    assert download_info.value.suggested_filename == "compare-radar.svg"
    assert "<svg" in download_info.value.path().read_text()[:500]

    # Model names and other text cannot smuggle spreadsheet formulas or break the CSV.
    csv_text = page.evaluate(
        """() => ValuePortraitCharts.toCsv({columns: ["who", "score"],
                rows: [["=HYPERLINK(1)", -0.5], ['a "b", c', null]]})"""
    )
    assert csv_text == 'who,score\r\n\'=HYPERLINK(1),-0.5\r\n"a ""b"", c",\r\n'

    # Filtered to open weights: only the open model stays.
    page.goto(f"{base}/dashboards/models/?open=open")
    _wait_for_charts(page, 2)
    assert _legend(page, "compare-radar") == ["open-8b-instruct"]

    # --- One model's portrait: radar with variant error whiskers, numbers, provenance
    gpt = next(r for r in results["reference"] if r.model_config.name == "gpt-4o-2024-11-20")
    page.goto(f"{base}/dashboards/runs/{gpt.pk}/")
    _wait_for_charts(page, 1)
    assert page.locator("#portrait-radar svg.main-svg g.scatterlayer g.trace").count() == 2
    assert page.locator("#portrait-table tbody tr").count() == 10
    assert "valueportrait-2025" in page.locator("dl.params").inner_text()
    save_screenshot(page, "dashboards-portrait")

    # --- Humans vs models: the participants' portrait on the release's items (with its
    # bootstrap interval), the per-person spread behind it, one marker trace per model; the
    # questionnaire scores in a panel of their own.
    page.goto(f"{base}/dashboards/humans/?study=valueportrait-2025")
    _wait_for_charts(page, 2)
    assert "Compared:" in page.locator("#what-is-compared").inner_text()
    assert page.locator("#humans-portrait svg.main-svg g.boxlayer g.trace").count() == 1
    # The portrait and the five models.
    assert page.locator("#humans-portrait svg.main-svg g.scatterlayer g.trace").count() == 6
    assert "559 participants' portrait" in page.locator("#humans-portrait").inner_text()
    assert page.locator("#gap-table tbody tr").count() == 5
    assert page.locator("#human-portrait tbody tr").count() == 10
    assert page.locator("#humans-questionnaire svg.main-svg g.boxlayer path.box").count() == 10
    assert page.locator("#humans-questionnaire svg.main-svg g.scatterlayer g.trace").count() == 0
    save_screenshot(page, "dashboards-humans")
    page.goto(f"{base}/dashboards/humans/?study=valueportrait-2025&shape=violin")
    _wait_for_charts(page, 2)
    assert page.locator("#humans-portrait svg.main-svg g.violinlayer g.trace").count() == 1
    assert (
        page.locator("#humans-questionnaire svg.main-svg g.violinlayer path.violin").count() == 10
    )

    # --- Demographic bias: the persona run against the panel's women and men
    run = results["persona_run"]
    page.goto(f"{base}/dashboards/bias/?run={run.pk}&study=demographic-panel&field=gender")
    _wait_for_charts(page, 2)
    assert "Compared:" in page.locator("#what-is-compared").inner_text()
    assert "man 60, woman 60" in page.locator("#bias-groups").inner_text()
    assert sorted(_legend(page, "bias-differences")) == ["man", "woman"]
    assert _legend(page, "bias-profile") == ["Humans: man", "Model as man"]
    assert page.locator("#departures tbody tr").count() == 8
    save_screenshot(page, "dashboards-bias")

    # --- Items: explorer, then one item with its texts, ratings and every model's answers
    page.goto(f"{base}/dashboards/items/?study=valueportrait-2025")
    assert page.locator("#item-list tbody tr").count() == 50
    page.locator("#item-list tbody tr a").first.click()
    _wait_for_charts(page, 1)
    assert page.locator("#item-ratings svg.main-svg g.barlayer g.trace").count() == 1
    # The three published models and the two live ones answered the release's items.
    assert page.locator("#model-answers tbody tr").count() >= 5
    assert page.locator("#item-correlations tbody tr").count() == 19
    # Screenshots only of our own items: the release's texts stay out of the repository.
    page.goto(f"{base}/dashboards/items/?study=demographic-panel")
    assert page.locator("#item-list tbody tr").count() == 10
    save_screenshot(page, "dashboards-items")
    page.locator("#item-list tbody tr a").first.click()
    _wait_for_charts(page, 1)
    assert len(_legend(page, "item-ratings")) == 1 + 2  # humans + two models
    save_screenshot(page, "dashboards-item")

    # --- The browsable API documentation renders (Swagger UI from our static files)
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20000)
    assert page.locator(".swagger-ui .opblock").count() > 20

    assert not errors, errors
    assert EvaluationRun.objects.filter(status="done").count() == 8
    assert Study.objects.get(slug="valueportrait-2025").participants.count() == 569
