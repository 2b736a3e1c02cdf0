import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.roles import is_admin, is_researcher
from survey.models import Instrument, Item, Participant, Study
from tests.survey.bots import SurveyBot


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_opens_the_demo_study(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    call_command("load_demo")
    study = Study.objects.get(slug="demo")
    assert study.status == Study.Status.OPEN and study.refusal_reason() is None
    assert study.item_pool.count() == Item.objects.count() == 50
    assert study.items_per_participant == 40
    # English, and pvq_rr and bfi10 in each further demo language
    assert Instrument.objects.filter(is_placeholder=True).count() == 3 + 2 * 2
    assert "username 'researcher', password 'portrait-demo-2025'" in out
    user = get_user_model().objects.get(username="researcher")
    assert user.check_password("portrait-demo-2025")
    assert is_researcher(user) and not is_admin(user)
    assert is_admin(get_user_model().objects.get(username="admin"))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["de", "ko"])
def test_the_demo_study_runs_in_every_shipped_language(language):
    """Every shipped language (settings.LANGUAGES) is offered, every demo item is servable in
    it, and a participant choosing it with ?lang= finishes in it."""
    call_command("load_demo")
    study = Study.objects.get(slug="demo")
    assert study.offered_languages() == [code for code, _ in settings.LANGUAGES if code != "ar"]
    assert Item.objects.servable_in(language).count() == 50
    bot = SurveyBot("demo")
    bot.arrive(participant_id=f"demo-{language}", lang=language)
    assert f'<html lang="{language}"' in bot.html
    assert bot.run_to_end() == "done"
    participant = Participant.objects.get(external_id=f"demo-{language}")
    assert participant.language == language and participant.ratings.count() == 40
    assert {i.language for i in participant.instruments()} == {language}
