import pytest

from evaluation.personas import (
    PersonaError,
    parse_persona_key,
    persona_key,
    persona_preamble,
    validate_persona,
)
from evaluation.prompts import (
    CHAT,
    SCALE_LABELS,
    TITLED,
    TemplateError,
    load_release_layout,
    option_order_of,
    render,
)
from evaluation.prompts.builtin import BUILTIN_VARIANTS, builtin_templates
from evaluation.units import build_prompt, cache_key


def test_builtin_set_has_three_wordings_both_orders_both_styles():
    specs = builtin_templates()
    assert len(specs) == 12
    assert BUILTIN_VARIANTS == ("v1", "v1_reversed", "v2", "v2_reversed", "v3", "v3_reversed")
    for spec in specs:
        assert option_order_of(spec.text) == spec.option_order
        assert spec.reversed is spec.variant.endswith("_reversed")
        assert ("{title}" in spec.text) is (spec.style == TITLED)
        assert "6 = " in spec.digit_text


def test_render_does_not_expand_placeholders_inside_item_text():
    text = render("T: {title} / {text} / {content}", title="{text}", scenario="a {b}", response="c")
    assert text == "T: {text} / a {b} / c"


@pytest.mark.shared_data
def test_release_layout_loads_the_papers_prompts(release_dir):
    specs = load_release_layout(release_dir / "lm_evaluation" / "prompts")
    assert len(specs) == 12
    by_key = {(s.variant, s.style): s for s in specs}
    assert by_key[("v1", TITLED)].option_order[0] == "very much like me"
    assert by_key[("v1_reversed", CHAT)].option_order == SCALE_LABELS
    assert "{title}" not in by_key[("v2", CHAT)].text


def test_release_layout_errors_name_the_file(tmp_path):
    (tmp_path / "v1").mkdir()
    options = "\n".join(SCALE_LABELS)
    (tmp_path / "v1" / "reddit_prompt.txt").write_text("{title} {text} {content}\n" + options)
    with pytest.raises(TemplateError, match="option order does not match the folder name"):
        load_release_layout(tmp_path)  # ascending order in a folder not named _reversed
    (tmp_path / "v1" / "reddit_prompt.txt").write_text("{title} {text} {content}\n")
    with pytest.raises(TemplateError, match="v1/reddit_prompt.txt: a template must list"):
        load_release_layout(tmp_path)
    (tmp_path / "v1" / "reddit_prompt.txt").write_text("{title} {text}\n" + options[::-1])
    with pytest.raises(TemplateError, match="misses {content}"):
        load_release_layout(tmp_path)
    (tmp_path / "v2").mkdir()
    (tmp_path / "v1" / "reddit_prompt.txt").unlink()
    with pytest.raises(TemplateError, match="v1/reddit_prompt.txt is missing"):
        load_release_layout(tmp_path)


def test_personas_validate_and_prefix_the_prompt():
    persona = validate_persona({"gender": "woman", "age": "30-44"})
    assert persona_key(persona) == "age=30-44;gender=woman"
    assert parse_persona_key(persona_key(persona)) == persona
    assert persona_preamble(persona).startswith("Answer the following as a woman aged 30-44")
    with pytest.raises(PersonaError, match="age must be one of"):
        validate_persona({"age": "12"})
    with pytest.raises(PersonaError, match="unknown persona field"):
        validate_persona({"religion": "x"})
    prompt = build_prompt("{text}|{content}", title="", scenario="s", response="r", persona=persona)
    assert prompt.endswith("s|r") and prompt.startswith("Answer the following as")


def test_cache_key_depends_on_everything_that_shapes_the_answer():
    base = dict(
        provider="openai", model_id="m", base_url="u", params={"t": 0}, prompt="p", attempt=0
    )
    key = cache_key(**base)
    for change in (
        {"provider": "gemini"},
        {"model_id": "m2"},
        {"base_url": "u2"},
        {"params": {"t": 1}},
        {"prompt": "q"},
        {"attempt": 1},
    ):
        assert cache_key(**{**base, **change}) != key
    assert cache_key(**base) == key
