"""A fresh ``load_demo`` fills every results page: scripted participants, a correlation run,
a frozen item set and finished demo evaluation runs (the real paths), idempotently."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from benchmark.models import CorrelationRun, StudyAnalysisSettings, ValidatedItemSet
from evaluation.demo_model import DemoModelServer
from evaluation.lifecycle import answer_in_process, create_run
from evaluation.models import EvaluationRun, ModelConfiguration, PortraitScore, Response
from survey.models import ItemRating, Participant, Study

pytestmark = pytest.mark.django_db

SIGNED_SCORE = re.compile(r"[+-]\d\.\d{3}")


def counts() -> dict:
    return {
        "participants": Participant.objects.count(),
        "ratings": ItemRating.objects.count(),
        "correlation_runs": CorrelationRun.objects.count(),
        "item_sets": ValidatedItemSet.objects.count(),
        "evaluation_runs": EvaluationRun.objects.count(),
        "answers": Response.objects.count(),
    }


def text_of(response) -> str:
    html = re.sub(r"<script.*?</script>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_load_demo_fills_every_dashboard_and_is_idempotent(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "10 scripted demo participant(s) added" in out
    study = Study.objects.get(slug="demo")
    counted = Participant.objects.counted(study)
    assert counted.count() == 10 and not counted.exclude(external_id__startswith="demo-bot-")
    assert StudyAnalysisSettings.objects.get(study=study).min_raters_per_pair == 5  # demo minimums
    run = CorrelationRun.objects.get(study=study)
    assert run.status == "done" and run.n_participants == 10 and "Demo data" in run.label
    item_set = ValidatedItemSet.objects.get(name="demo-items")
    assert item_set.entries.count() > 0
    evaluation_runs = list(EvaluationRun.objects.order_by("pk"))
    assert [r.status for r in evaluation_runs] == ["done", "done"]
    assert all(r.label.startswith("Demo data") for r in evaluation_runs)
    plain, personas = evaluation_runs
    assert plain.responses.filter(state="valid").count() == plain.expected_units()
    assert PortraitScore.objects.filter(run=plain, centred__isnull=False).count() >= 10
    assert ModelConfiguration.objects.get(name="demo-local-server").base_url == (
        "http://127.0.0.1:8080/v1"
    )

    client = Client()
    client.force_login(get_user_model().objects.get(username="researcher"))
    compare = text_of(client.get("/dashboards/models/"))
    assert "demo-local-server" in compare and len(SIGNED_SCORE.findall(compare)) >= 10
    portrait = text_of(client.get(f"/dashboards/runs/{plain.pk}/"))
    assert len(SIGNED_SCORE.findall(portrait)) >= 10
    humans = text_of(client.get("/dashboards/humans/"))
    assert "10 counted" in humans and len(SIGNED_SCORE.findall(humans)) >= 10
    bias = client.get("/dashboards/bias/", {"group_by": "gender", "run": personas.pk})
    bias_text = text_of(bias)
    assert "No finished run with personas" not in bias_text
    assert re.search(r"(woman|man) \S+ [+-]\d\.\d{3} [+-]\d\.\d{3} [+-]\d\.\d{3}", bias_text)
    assert "50 items." in text_of(client.get("/dashboards/items/"))
    benchmark_page = text_of(client.get("/benchmark/demo/"))
    assert "demo-items v1" in benchmark_page
    run_page = text_of(client.get(f"/benchmark/demo/runs/{run.pk}/"))
    assert "Correlation run" in run_page and re.search(r"D001/1 \S+ \d\.\d{3}", run_page)

    # the new-run page offers the demo model and item set, and the model answers at once
    form = client.get(reverse("evaluation:run_new")).context["form"]
    assert "demo-local-server" in [c.name for c in form.fields["model_config"].queryset]
    assert item_set in form.fields["item_set"].queryset
    config = ModelConfiguration.objects.get(name="demo-local-server")
    with DemoModelServer() as server:  # what make run serves on 127.0.0.1:8080
        ModelConfiguration.objects.filter(pk=config.pk).update(base_url=server.base_url)
        extra = create_run(model_config=config, item_set=item_set, variants=["v1"])
        assert answer_in_process(run_id=extra.pk).status == "done"
    extra.delete()

    before = counts()
    call_command("load_demo")
    assert counts() == before
