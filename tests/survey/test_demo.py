import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.roles import is_admin, is_researcher
from survey.models import Instrument, Item, Study


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_opens_the_demo_study(capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    call_command("load_demo")
    study = Study.objects.get(slug="demo")
    assert study.status == Study.Status.OPEN and study.refusal_reason() is None
    assert study.item_pool.count() == Item.objects.count() == 50
    assert study.items_per_participant == 40
    assert Instrument.objects.filter(is_placeholder=True).count() == 3
    assert "username 'researcher', password 'portrait-demo-2025'" in out
    user = get_user_model().objects.get(username="researcher")
    assert user.check_password("portrait-demo-2025")
    assert is_researcher(user) and not is_admin(user)
    assert is_admin(get_user_model().objects.get(username="admin"))
