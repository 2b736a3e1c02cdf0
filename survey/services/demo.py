"""Demo content: our own scenarios and items with our German and Korean translations,
placeholder-worded instruments in each of those languages, an open study ``demo`` offered in
every shipped language it has translations for, and demo accounts. Idempotent."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from core.roles import ADMINS_GROUP, RESEARCHERS_GROUP
from survey.bots import SurveyBot, site_bot_client
from survey.models import Item, ItemTranslation, Participant, Scenario, Source, Study
from survey.models.studies import shipped_languages

from .instruments import ensure_all_instruments, ensure_instrument

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "demo_items.json"
# The project's own translations of the demo items (reviewed by the project, not drafts).
DEMO_TRANSLATIONS_FILE = DEMO_FILE.with_name("demo_translations.json")
DEMO_STUDY_SLUG = "demo"
DEMO_PASSWORD_ENV = "DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "portrait-demo-2025"  # local demo only; set DEMO_PASSWORD to change


@dataclass
class DemoAccount:
    username: str
    password: str
    role: str


@transaction.atomic
def load_demo_items() -> list[Item]:
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    sources = {}
    for entry in data["sources"]:
        sources[entry["slug"]], _ = Source.objects.update_or_create(
            slug=entry["slug"], defaults={"name": entry["name"], "style": entry["style"]}
        )
    items = []
    for entry in data["scenarios"]:
        scenario, _ = Scenario.objects.update_or_create(
            external_id=entry["external_id"],
            defaults={
                "source": sources[entry["source"]],
                "title": entry["title"],
                "text": entry["text"],
                "metadata": {"demo": True},
            },
        )
        for option_id, text in enumerate(entry["responses"], start=1):
            item, _ = Item.objects.update_or_create(
                scenario=scenario, option_id=option_id, defaults={"text": text}
            )
            items.append(item)
    load_demo_translations()
    return items


def demo_translation_languages() -> list[str]:
    """The languages the demo items are translated into (``DEMO_TRANSLATIONS_FILE``)."""
    data = json.loads(DEMO_TRANSLATIONS_FILE.read_text(encoding="utf-8"))
    return sorted(data["languages"])


def load_demo_translations() -> None:
    """Store the demo items' translations as reviewed (written by the project), unchanged
    when already there."""
    data = json.loads(DEMO_TRANSLATIONS_FILE.read_text(encoding="utf-8"))
    items = {
        (ext, option): item
        for item, ext, option in (
            (item, item.scenario.external_id, item.option_id)
            for item in Item.objects.filter(scenario__metadata__demo=True).select_related(
                "scenario"
            )
        )
    }
    for language, scenarios in data["languages"].items():
        for external_id, text in scenarios.items():
            for option_id, response in enumerate(text["responses"], start=1):
                ItemTranslation.objects.get_or_create(
                    item=items[(external_id, option_id)],
                    language=language,
                    defaults={
                        "scenario_title": text["title"],
                        "scenario_text": text["text"],
                        "response": response,
                        "status": ItemTranslation.Status.REVIEWED,
                        "reviewed_at": timezone.now(),
                    },
                )


@transaction.atomic
def load_demo_study(items: list[Item]) -> Study:
    instruments = {i.code: i for i in ensure_all_instruments()}
    study, created = Study.objects.get_or_create(
        slug=DEMO_STUDY_SLUG,
        defaults={
            "title": "Demo study: how similar are these responses to your own thoughts?",
            "description": "A demo study with the project's own items and placeholder questionnaire wording.",
            "status": Study.Status.OPEN,
            "items_per_participant": 40,
            "target_ratings_per_item": 20,
            "time_limit_minutes": 60,
            "consent_text": (
                "This is a demo of the Value Portrait survey. You will read short scenarios "
                "with a response and say how similar each response is to your own thoughts, "
                "then answer two short questionnaires. Your answers are stored under a "
                "pseudonymous id and used for research only. Taking part is voluntary and "
                "you may stop at any time."
            ),
            "uses_prolific": False,
            "completion_code": "DEMO-DONE",
            "no_consent_code": "DEMO-NOCONSENT",
            "screened_out_code": "DEMO-SCREENED",
            "completion_redirect_url": "",
            "allow_placeholder_wording": True,
        },
    )
    if created:
        # Every shipped language the demo items are translated into, with its wording.
        languages = [
            code
            for code in shipped_languages()
            if code == study.language or code in demo_translation_languages()
        ]
        study.languages = [code for code in languages if code != study.language]
        study.save(update_fields=["languages"])
        study.item_pool.set(items)
        study.instruments.set(
            [instruments["pvq_rr"], instruments["bfi10"]]
            + [
                ensure_instrument(code, language)
                for code in ("pvq_rr", "bfi10")
                for language in study.languages
            ]
        )
    return study


def load_demo_accounts() -> list[DemoAccount]:
    password = os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)
    User = get_user_model()
    accounts = []
    for username, role, staff, superuser, group in (
        ("researcher", "researcher", False, False, RESEARCHERS_GROUP),
        ("admin", "admin", True, True, ADMINS_GROUP),
    ):
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": staff, "is_superuser": superuser}
        )
        if created:
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        accounts.append(
            DemoAccount(
                username,
                password if created or user.check_password(password) else "(changed by you)",
                role,
            )
        )
    return accounts


DEMO_BOT_PREFIX = "demo-bot-"
DEMO_BOT_PROFILES = (  # varied demographics, so that the bias page has groups to show
    {"gender": "female", "age": 24, "country": "United Kingdom", "education": "undergraduate"},
    {"gender": "male", "age": 37, "country": "United States", "education": "graduate"},
    {"gender": "female", "age": 52, "country": "Germany", "first_language": "German"},
    {"gender": "male", "age": 29, "country": "United Kingdom", "education": "secondary"},
    {"gender": "female", "age": 45, "country": "United States", "education": "graduate"},
    {"gender": "male", "age": 63, "country": "Germany", "first_language": "German"},
)


def load_demo_participants(study: Study, *, count: int = 10) -> int:
    """Complete the demo study with scripted participants (``survey.bots``, through the real
    pages) until ``count`` of them have finished; returns how many were added now.

    Their answers are random (seeded per bot; the items each gets are drawn as for anyone):
    demo data that makes the pages show something, not findings. Idempotent: bots already there count.
    """
    done = set(
        study.participants.filter(
            external_id__startswith=DEMO_BOT_PREFIX, status=Participant.Status.COMPLETED
        ).values_list("external_id", flat=True)
    )
    added = 0
    # One transaction for all of them: a commit per answer (SQLite syncs each to disk) was
    # most of the demo's time; a bot that does not finish leaves none of them behind.
    with transaction.atomic():
        for n in range(count):
            external_id = f"{DEMO_BOT_PREFIX}{n + 1:02d}"
            if external_id in done:
                continue
            bot = SurveyBot(study.slug, client=site_bot_client(), rng=random.Random(2025 + n))
            bot.arrive(participant_id=external_id)
            bot.consent()
            bot.demographics(**DEMO_BOT_PROFILES[n % len(DEMO_BOT_PROFILES)])
            if bot.run_to_end() != "done":
                raise RuntimeError(f"demo participant {external_id} did not finish: {bot.page}")
            added += 1
    return added
