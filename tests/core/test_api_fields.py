"""Lookups by name refuse text the database cannot compare, with a 400, not a 500."""

import pytest
from rest_framework.exceptions import ValidationError

from core.api_fields import NameLookupField
from survey.models import Study
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


def test_a_nul_character_is_refused_as_not_found():
    StudyFactory(slug="real-study")
    field = NameLookupField(slug_field="slug", queryset=Study.objects.all())
    assert field.to_internal_value("real-study").slug == "real-study"
    with pytest.raises(ValidationError) as refused:
        field.to_internal_value("real-\x00study")
    assert "does not exist" in str(refused.value.detail[0])
