"""The cross-language comparison's REST endpoint: the page's table as JSON, the minimums'
"too few" as null with a reason, declared parameters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from benchmark.models import StudyAnalysisSettings
from benchmark.services import recompute_now
from tests.api_exports import token_headers
from tests.benchmark.test_languages import build_two_language_study, scipy_r

pytestmark = pytest.mark.django_db


def url(study) -> str:
    return f"/api/v1/language-comparisons/{study.slug}/"


@pytest.fixture
def compared():
    study, items = build_two_language_study()
    runs = {language: recompute_now(study=study, language=language) for language in ("en", "de")}
    return study, items, runs


def row_of(body, item, dimension="Power"):
    return next(r for r in body["results"] if r["item"] == item.pk and r["dimension"] == dimension)


def test_the_comparison_with_fisher_z_and_too_few_reasons(client, compared):
    study, items, runs = compared
    assert client.get(url(study)).status_code in (401, 403)
    assert client.get(url(study), **token_headers("nobody")).status_code == 403
    auth = token_headers("researcher")
    response = client.get(url(study), {"dimension": "Power", "a": "en", "b": "de"}, **auth)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["languages"] == ["en", "de"] and body["pair"] == ["en", "de"]
    assert body["runs"] == {"en": runs["en"].pk, "de": runs["de"].pk}
    assert body["required_raters_per_pair"] == 20 and body["reason"] is None
    assert body["count"] == 6 and {r["dimension"] for r in body["results"]} == {"Power"}

    second = row_of(body, items[1])
    r_en, n_en = scipy_r(study, items[1], "en")
    r_de, n_de = scipy_r(study, items[1], "de")
    en, de = second["languages"]
    assert (en["language"], en["n"], en["selection"]) == ("en", n_en, "selected")
    assert en["r"] == pytest.approx(r_en, abs=1e-12) and en["r_reason"] is None
    assert (de["selection"], de["r"]) == ("not_selected", pytest.approx(r_de, abs=1e-12))
    assert second["selection_differs"] is True
    z = (np.arctanh(r_en) - np.arctanh(r_de)) / np.sqrt(1.06 / (n_en - 3) + 1.06 / (n_de - 3))
    assert second["z"] == pytest.approx(z, rel=1e-10)
    assert second["p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert second["p_bh"] >= second["p"] and second["test_reason"] is None

    thin = row_of(body, items[5])  # 8 German raters of 20 required
    de = thin["languages"][1]
    assert de["r"] is None and de["selection"] == "too_few"
    assert de["r_reason"].startswith("too few raters: n = 8, at least 20 needed")
    assert (thin["z"], thin["p"], thin["p_bh"]) == (None, None, None)
    assert thin["test_reason"].startswith("too few raters: n = 8, at least 20 needed")
    assert thin["languages"][0]["r"] is not None  # English has its 30


def test_differing_filter_and_a_lower_minimum(client, compared):
    study, items, _ = compared
    auth = token_headers("researcher")
    differing = client.get(url(study), {"differing": "true", "family": "schwartz"}, **auth)
    body = differing.json()
    assert body["count"] >= 1 and all(r["selection_differs"] for r in body["results"])
    assert items[1].pk in {r["item"] for r in body["results"] if r["dimension"] == "Power"}
    StudyAnalysisSettings.objects.create(study=study, min_raters_per_pair=5)
    thin = row_of(client.get(url(study), {"dimension": "Power"}, **auth).json(), items[5])
    assert thin["languages"][1]["r"] is not None and thin["z"] is not None


@pytest.mark.parametrize(
    "query, parameter",
    [
        ({"a": "ko"}, "a"),  # not a language with a run
        ({"a": "de", "b": "de"}, "b"),
        ({"method": "kendall"}, "method"),
        ({"dimension": "Niceness"}, "dimension"),
        ({"family": "astrology"}, "family"),
        ({"threshold": "2"}, "threshold"),
        ({"mode": "sideways"}, "mode"),
        ({"differing": "perhaps"}, "differing"),
        ({"a": "d\x00e"}, "a"),
    ],
)
def test_an_unknown_parameter_value_is_a_400_naming_it(client, compared, query, parameter):
    study, _, _ = compared
    response = client.get(url(study), query, **token_headers("researcher"))
    assert response.status_code == 400
    assert parameter in response.json()


def test_fewer_than_two_languages_say_why_and_an_unknown_study_is_404(client):
    study, _ = build_two_language_study()
    recompute_now(study=study, language="de")
    auth = token_headers("researcher")
    body = client.get(url(study), **auth).json()
    assert body["results"] == [] and body["languages"] == ["de"]
    assert "two languages; de has one" in body["reason"]
    assert client.get("/api/v1/language-comparisons/nope/", **auth).status_code == 404


def test_the_schema_declares_the_comparison(client):
    schema = client.get("/api/schema/?format=json", **token_headers("researcher")).json()
    operation = schema["paths"]["/api/v1/language-comparisons/{slug}/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"a", "b", "method", "family", "dimension", "threshold", "mode", "differing"} <= set(
        parameters
    )
    assert set(parameters["method"]["schema"]["enum"]) == {"spearman", "pearson"}
