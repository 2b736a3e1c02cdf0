"""Model runs in another language: translated items, the language's templates, answers read
against the language's labels (phrases) or digits and number words."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from core.roles import RESEARCHERS_GROUP
from evaluation import lifecycle
from evaluation.errors import InvalidRunSettings
from evaluation.models import EvaluationRun, PortraitScore, PromptTemplate, Response
from evaluation.prompts import SCALE_LABELS
from evaluation.prompts.builtin import BUILTIN_LANGUAGES, SET_NAME, builtin_templates
from evaluation.selectors import answer_log_frames, missing_units
from evaluation.services import ensure_builtin_templates
from survey.models import ItemTranslation
from survey.selectors.scale_words import scale_words
from tests.conftest import PROJECT_DIR
from tests.evaluation.factories import ModelConfigurationFactory, make_item_set
from tests.evaluation.fake_provider import FakeProvider, rating_for


@pytest.fixture
def server():
    with FakeProvider(retry_after=0.1, hang_seconds=2.0) as fake:
        yield fake


def translate_all(item_set, language="de", status="reviewed"):
    for entry in item_set.entries.select_related("item__scenario").distinct():
        item = entry.item
        ItemTranslation.objects.get_or_create(
            item=item,
            language=language,
            defaults=dict(
                scenario_title=f"[{language}] {item.scenario.title}" if item.scenario.title else "",
                scenario_text=f"[{language}] Szenario {item.pk}",
                response=f"[{language}] Antwort Nummer {item.pk}",
                status=status,
                reviewed_at=None if status == "machine_draft" else timezone.now(),
            ),
        )


def test_builtin_templates_exist_in_each_language_with_english_option_order():
    for language in BUILTIN_LANGUAGES:
        shown = scale_words(language=language).labels  # the participant pages' labels
        specs = builtin_templates(language, labels=shown)
        assert len(specs) == 12
        for spec in specs:
            assert spec.option_order in (SCALE_LABELS, tuple(reversed(SCALE_LABELS)))
            assert [line for line in spec.text.splitlines() if line in shown] == [
                shown[SCALE_LABELS.index(label)] for label in spec.option_order
            ]
            lines = spec.digit_text.splitlines()[-6:]
            # "k = label" with the label in the template's language, in the option order
            assert lines == [
                f"{k} = {shown[SCALE_LABELS.index(label)]}"
                for k, label in enumerate(spec.option_order, start=1)
            ]
    with pytest.raises(ValueError, match="no built-in templates in 'fr'"):
        builtin_templates("fr")
    with pytest.raises(ValueError, match="need its six labels"):
        builtin_templates("de")


@pytest.mark.django_db
def test_a_german_run_puts_the_translations_in_the_german_templates(server):
    item_set = make_item_set(n_items=6)
    translate_all(item_set)
    config = ModelConfigurationFactory(base_url=server.url("openai"), top_logprobs=5)
    run = lifecycle.create_run(
        model_config=config, item_set=item_set, variants=["v1"], scoring="probability",
        language="de",
    )  # fmt: skip
    assert run.language == "de" and run.templates().count() == 12
    assert set(run.templates().values_list("language", flat=True)) == {"de"}
    english = lifecycle.create_run(
        model_config=config, item_set=item_set, variants=["v1"], scoring="probability"
    )
    assert english.parameters_fingerprint != run.parameters_fingerprint
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=config.generation_params()
    )
    written = lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
    run.refresh_from_db()
    assert written == 6 and run.status == EvaluationRun.Status.DONE
    prompts = [r["payload"]["messages"][-1]["content"] for r in server.requests]
    assert len(prompts) == 6
    for prompt in prompts:
        assert "Antworte mit der Nummer genau einer der folgenden Optionen" in prompt
        assert "Antwort: [de] Antwort Nummer " in prompt and "Response number" not in prompt
        assert "1 = sehr wie ich" in prompt  # v1 lists the options from the top down
    for row in Response.objects.filter(run=run).select_related("item"):
        translation = row.item.translations.get(language="de")
        assert row.state == "valid" and row.rating == rating_for(translation.response)
    assert PortraitScore.objects.filter(run=run).exists()
    logged = next(answer_log_frames(run=run))
    # the answer log rebuilds each German prompt exactly as it was sent
    assert logged["prompt_text_matches"].all() and len(logged) == 6
    assert logged["prompt_text"].str.contains(r"\[de\] Antwort Nummer").all()


@pytest.mark.django_db
def test_a_run_in_a_language_is_refused_without_reviewed_translations_or_catalogue():
    item_set = make_item_set(n_items=4)
    config = ModelConfigurationFactory(top_logprobs=5)
    translate_all(item_set, status="machine_draft")
    with pytest.raises(InvalidRunSettings, match="4 item\\(s\\) of .* no reviewed translation"):
        lifecycle.create_run(
            model_config=config, item_set=item_set, scoring="probability", language="de"
        )
    with pytest.raises(InvalidRunSettings, match="no message catalogue for it"):
        lifecycle.create_run(
            model_config=config, item_set=item_set, scoring="probability", language="fr"
        )
    assert not PromptTemplate.objects.filter(language="fr").exists()


@pytest.mark.django_db
def test_the_new_run_page_starts_a_run_in_a_language(client):
    item_set = make_item_set(n_items=2)
    translate_all(item_set, language="ko")
    config = ModelConfigurationFactory(top_logprobs=5)
    user = User.objects.create_user("res", password="pw")
    user.groups.add(Group.objects.get_or_create(name=RESEARCHERS_GROUP)[0])
    client.force_login(user)
    form = {
        "model_config": config.pk, "item_set": item_set.pk,
        "template_set": "valueportrait-own:1", "variants": ["v2"], "repetitions": "1",
        "invalid_retries": "2", "min_valid_probability": "0.5", "use_cache": "on",
        "mode": "live", "batch_retry": "batch", "language": "ko",
    }  # fmt: skip
    client.post(reverse("evaluation:run_new"), {**form, "scoring": "phrase"})
    run = EvaluationRun.objects.get()
    assert run.language == "ko" and run.scoring == "phrase"
    page = client.get(reverse("evaluation:run", args=[run.pk]))
    assert "language ko" in page.content.decode()


@pytest.mark.django_db
def test_a_german_phrase_run_reads_german_labels_and_re_asks_with_them(server):
    item_set = make_item_set(n_items=4)
    translate_all(item_set)
    unreadable = item_set.entries.first().item
    # the first answer to this item is unreadable; the re-ask (a follow-up turn) is answered
    server.invalid_for = [f"[de] Antwort Nummer {unreadable.pk}\n"]
    config = ModelConfigurationFactory(base_url=server.url("openai"))
    run = lifecycle.create_run(
        model_config=config, item_set=item_set, variants=["v1"], language="de"
    )
    assert run.scoring == "phrase"
    EvaluationRun.objects.filter(pk=run.pk).update(
        status=EvaluationRun.Status.RUNNING, params=config.generation_params()
    )
    lifecycle.execute_batch(run_id=run.pk, units=missing_units(run=run))
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.DONE
    german = scale_words(language="de").labels
    for row in Response.objects.filter(run=run).select_related("item"):
        rating = rating_for(row.item.translations.get(language="de").response)
        assert row.state == "valid" and row.rating == rating
        assert row.raw_text == german[rating - 1]  # the model answered the German label
        assert row.label == SCALE_LABELS[rating - 1]
    follow_ups = [
        r["payload"]["messages"] for r in server.requests if len(r["payload"]["messages"]) > 1
    ]
    assert len(follow_ups) == 1
    follow_up = follow_ups[0][-1]["content"]
    assert follow_up.startswith(
        "Deine Antwort konnte keiner der Optionen zugeordnet werden. Antworte noch einmal mit "
        "genau einer der folgenden Formulierungen"
    )
    assert follow_up.splitlines()[1:] == list(reversed(german))  # v1 lists from the top
    assert "like me" not in follow_up and "Your answer" not in follow_up


@pytest.mark.django_db
def test_a_phrase_run_is_refused_when_its_templates_show_other_labels():
    item_set = make_item_set(n_items=2)
    translate_all(item_set, language="ko")
    config = ModelConfigurationFactory()
    lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"], language="ko")
    # templates stored before a catalogue change list words the parser no longer reads
    stale = PromptTemplate.objects.filter(language="ko", variant="v1")
    for template in stale:
        template.text = template.text.replace("나와 매우 비슷하다", "매우 나와 같다")
        template.save()
    with pytest.raises(InvalidRunSettings, match="does not list the 'ko' catalogue's labels"):
        lifecycle.create_run(model_config=config, item_set=item_set, variants=["v1"], language="ko")
    run = lifecycle.create_run(
        model_config=ModelConfigurationFactory(top_logprobs=5), item_set=item_set,
        variants=["v1"], language="ko", scoring="probability",
    )  # fmt: skip
    assert run.language == "ko"  # digits are read whatever the labels


@pytest.mark.django_db
def test_builtin_templates_of_a_language_wait_for_its_compiled_catalogue(
    settings, tmp_path, caplog
):
    settings.LOCALE_PATHS = [tmp_path]  # no catalogue compiled
    ensure_builtin_templates()
    stored = PromptTemplate.objects.filter(set_name=SET_NAME)
    assert set(stored.values_list("language", flat=True)) == {"en"}
    assert "built-in templates in 'de' not stored" in caplog.text
    settings.LOCALE_PATHS = [PROJECT_DIR / "locale"]
    ensure_builtin_templates()
    assert set(stored.values_list("language", flat=True)) == set(BUILTIN_LANGUAGES)
