"""Hostile or malformed release files are refused with nothing imported (issue 7 also covers this)."""

import json

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from release.reader import ReleaseFormatError, read_release
from survey.models import Item, ItemRating, Participant, Scenario

pytestmark = [pytest.mark.shared_data]

ITEMS = "data/query-response-tagged/query-response-tagged.json"
SURVEY = "data/prolific/survey/main/survey.json"
VALUES = "data/prolific/value/main/value.json"
BFI = "data/correlation_results/bfi_correlation_results.json"


def _edit(root, relative, change):
    path = root / relative
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _first_option(data):
    return data[0][next(iter(data[0]))][0]


CASES = [
    (SURVEY, lambda d: _first_option(d)["data"].append([10**30, "P900"]), "outside 1..6"),
    (SURVEY, lambda d: _first_option(d)["data"].append([1e308, "P900"]), "outside 1..6"),
    (SURVEY, lambda d: _first_option(d)["data"].append(["5", "P900"]), "not a whole number"),
    (SURVEY, lambda d: _first_option(d)["data"].append([5]), "is not [rating, participant_id]"),
    (
        SURVEY,
        lambda d: _first_option(d)["data"].append(list(_first_option(d)["data"][0])),
        "rated this item twice",
    ),
    (SURVEY, lambda d: d[0].__setitem__("9999", []), "portrait_id"),
    (SURVEY, lambda d: _first_option(d).__setitem__("option_id", 42), "unknown item"),
    (ITEMS, lambda d: d.append(dict(d[0])), "duplicate id"),
    (ITEMS, lambda d: d[0].__setitem__("portrait_id", "12345678901234567890"), "4-digit"),
    (ITEMS, lambda d: d[0]["outputs"].append(dict(d[0]["outputs"][0])), "duplicate option id"),
    (VALUES, lambda d: d["P321"]["bfi"].__setitem__("Openness", "NaN"), "finite"),
    (VALUES, lambda d: d.__setitem__("P321", []), "expected an object"),
    (
        BFI,
        lambda d: d[0].__setitem__("bfi_dimension", "<script>alert(1)</script>"),
        "unknown dimension",
    ),
    (BFI, lambda d: d[0].__setitem__("spearman_corr", 3.5), "out of range"),
    (BFI, lambda d: d.append(dict(d[0])), "duplicate row"),
]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("relative, change, message", CASES)
def test_hostile_release_is_refused_with_nothing_imported(release_copy, relative, change, message):
    _edit(release_copy, relative, change)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_valueportrait", str(release_copy), "--no-progress")
    assert message in str(excinfo.value) and relative in str(excinfo.value)
    assert not (
        Scenario.objects.exists()
        or Item.objects.exists()
        or Participant.objects.exists()
        or ItemRating.objects.exists()
    )


def test_json_nan_and_infinity_are_refused(release_copy):
    path = release_copy / VALUES
    path.write_text(path.read_text().replace("0.3809523809523814", "Infinity", 1))
    with pytest.raises(ReleaseFormatError, match="finite"):
        read_release(release_copy)


def test_html_in_texts_is_kept_verbatim_for_escaping_at_display(release_copy):
    _edit(
        release_copy,
        ITEMS,
        lambda d: d[0]["content"].__setitem__("title", "<script>alert('x')</script>"),
    )
    release = read_release(release_copy)
    assert release.scenarios[0].title == "<script>alert('x')</script>"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    junk=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=4), children, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_any_json_in_a_release_file_is_either_read_or_refused_with_release_format_error(
    release_copy, junk
):
    (release_copy / SURVEY).write_text(json.dumps(junk))
    try:
        read_release(release_copy)
    except ReleaseFormatError:
        pass
