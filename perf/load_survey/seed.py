"""Seed the load-test database: two open studies on a synthetic item pool (Django side).

* ``load-launch``: the realistic study (Prolific, demographics, 40 items per participant
  with two attention checks, PVQ-RR and BFI-10 with placeholder wording).
* ``load-answers``: the same pool without attention checks or questionnaires, used to
  measure the answer endpoint's throughput by posting answers back to back.
"""

from __future__ import annotations

from dataclasses import dataclass

LAUNCH_SLUG = "load-launch"
ANSWERS_SLUG = "load-answers"
DEMOGRAPHIC_FIELDS = ["age", "gender", "country", "education", "first_language"]


@dataclass(frozen=True)
class SeedPlan:
    pool_size: int = 300
    items_per_participant: int = 40
    attention_checks: int = 2
    target_ratings_per_item: int = 1000  # never reached: the study stays open all run


def seed(plan: SeedPlan) -> dict[str, int]:
    """Create the item pool and both studies; returns {slug: pool size}."""
    from survey.models import Item, Scenario, Source, Study
    from survey.services.instruments import ensure_instrument

    source, _ = Source.objects.get_or_create(
        slug="load-source", defaults={"name": "Load test items", "style": Source.Style.TITLED}
    )
    scenarios = Scenario.objects.bulk_create(
        Scenario(
            source=source,
            external_id=f"L{n:04d}",
            title=f"Load scenario {n}",
            text=f"Synthetic scenario {n} for the load test. " * 6,
        )
        for n in range((plan.pool_size + 1) // 2)
    )
    items = Item.objects.bulk_create(
        Item(scenario=scenario, option_id=option, text=f"Response {option} to {scenario.title}.")
        for scenario in scenarios
        for option in (1, 2)
    )[: plan.pool_size]
    common = dict(
        status=Study.Status.OPEN,
        items_per_participant=plan.items_per_participant,
        target_ratings_per_item=plan.target_ratings_per_item,
        completion_code="LOADDONE",
        no_consent_code="LOADNOCONSENT",
        screened_out_code="LOADSCREENED",
        consent_text="Synthetic consent text for the load test.",
        uses_prolific=True,
        completion_redirect_url="https://app.prolific.com/submissions/complete?cc={code}",
        time_limit_minutes=120,
        allow_placeholder_wording=True,
    )
    launch = Study.objects.create(
        title="Load test: launch",
        slug=LAUNCH_SLUG,
        demographic_fields=DEMOGRAPHIC_FIELDS,
        attention_check_count=plan.attention_checks,
        **common,
    )
    launch.item_pool.set(items)
    launch.instruments.set([ensure_instrument("pvq_rr"), ensure_instrument("bfi10")])
    answers = Study.objects.create(
        title="Load test: answer throughput",
        slug=ANSWERS_SLUG,
        demographic_fields=[],
        attention_check_count=0,
        **common,
    )
    answers.item_pool.set(items)
    return {LAUNCH_SLUG: len(items), ANSWERS_SLUG: len(items)}
