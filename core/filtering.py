"""The base of every declared API filter (django-filter FilterSets).

PostgreSQL text cannot hold a NUL character and psycopg refuses to send one, so a query value
with ``\\x00`` would fail in the database (a 500) instead of being refused. Here such a value
is a 400 naming the parameter, before anything is cleaned or queried; every other value is
checked by the filter's own field (an unknown choice, study or id is a 400 too).
"""

from __future__ import annotations

from django_filters import rest_framework as filters

NUL_REFUSED = "Text with a NUL character is not a valid value."


class FilterSet(filters.FilterSet):
    def __init__(self, data=None, *args, **kwargs):
        self.refused: list[str] = []
        if data is not None:
            data = data.copy()
            for name in list(data.keys()):
                if any("\x00" in str(value) for value in data.getlist(name)):
                    self.refused.append(name)
                    del data[name]
        super().__init__(data, *args, **kwargs)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name in self.refused:
            if name in self.form.fields:
                self.form.add_error(name, NUL_REFUSED)
        return valid and not any(name in self.form.fields for name in self.refused)
