from django.apps import AppConfig


class BenchmarkConfig(AppConfig):
    name = "benchmark"
    verbose_name = "Benchmark: correlations and validated item sets"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the participant_completed receiver)
