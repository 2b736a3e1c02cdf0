"""Serializer fields shared by the apps' REST endpoints."""

from rest_framework import serializers


class NameLookupField(serializers.SlugRelatedField):
    """A ``SlugRelatedField`` that refuses text PostgreSQL cannot compare (a NUL character)
    with the field's usual "does not exist" message, instead of failing in the database."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)
