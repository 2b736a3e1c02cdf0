"""One rule for freezing an item set: the staff page, the API and the command build the same
selection rule from the same request, with the same defaults (``freeze_item_set``)."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from benchmark.models import ValidatedItemSet
from benchmark.selection import SelectionRule
from benchmark.services import freeze_item_set, recompute_now
from core.roles import ADMINS_GROUP

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client):
    user = User.objects.create_user("adm", password="pw-123456")
    user.groups.add(Group.objects.get_or_create(name=ADMINS_GROUP)[0])
    client.force_login(user)
    return client


def test_page_api_and_command_freeze_the_same_rule_with_the_same_defaults(
    admin, small_study, tmp_path
):
    run = recompute_now(study=small_study)
    request = {"run": run.pk, "threshold": 0.05, "mode": "abs", "fdr_alpha": 0.5}
    page = admin.post(
        reverse("benchmark:create_item_set", args=[small_study.slug]), {**request, "name": "page"}
    )
    assert page.status_code == 302
    api = admin.post(
        "/api/v1/item-sets/", {**request, "name": "api"}, content_type="application/json"
    )
    assert api.status_code == 201, api.content
    call_command(
        "export_items", study=small_study.slug, correlations=str(run.pk), threshold=0.05,
        mode="abs", fdr_alpha=0.5, name="command", format="json",
        out=str(tmp_path / "items.json"),
    )  # fmt: skip
    freeze_item_set(run=run, threshold=0.05, mode="abs", fdr_alpha=0.5, name="direct")
    rules = {s.name: s.rule for s in ValidatedItemSet.objects.all()}
    assert set(rules) == {"page", "api", "command", "direct"}
    assert rules["page"] == rules["api"] == rules["command"] == rules["direct"] != {}
    # fdr_method was not given anywhere: every path took the rule's own default.
    assert rules["direct"]["fdr_method"] == SelectionRule.fdr_method
    pairs = {
        name: sorted(s.entries.values_list("item_id", "dimension"))
        for name, s in ((s.name, s) for s in ValidatedItemSet.objects.all())
    }
    assert pairs["page"] == pairs["api"] == pairs["command"] == pairs["direct"]


def test_a_preset_ignores_threshold_defaults(small_study):
    run = recompute_now(study=small_study)
    item_set = freeze_item_set(run=run, preset="valueportrait-2025")
    assert item_set.name == "valueportrait-2025" and item_set.preset == "valueportrait-2025"
