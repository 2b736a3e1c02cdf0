from django.apps import AppConfig


class ReleaseConfig(AppConfig):
    """The Value Portrait public data release: reading it and importing it (survey + benchmark)."""

    name = "release"
    verbose_name = "Release: the paper's public data"
