"""``manage.py recompute_correlations --study SLUG [--method spearman] [--language de |
--per-language]``: one run pooled over the study's languages (default), one restricted to a
language, or one per offered language plus the pooled one."""

from django.core.management.base import CommandError

from benchmark.models import CorrelationRun
from benchmark.selectors import compare_runs, published_run
from benchmark.services import EXECUTE_STAGES, recompute_now
from core.commands import ProjectCommand


class Command(ProjectCommand):
    help = "Recompute a study's item × dimension correlations now and store them as a new run."
    study = "required"
    long_running = True

    def add_arguments(self, parser):
        parser.add_argument("--method", default="spearman", choices=CorrelationRun.Method.values)
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--language", default="", help="only the participants who took it in this language"
        )
        where.add_argument(
            "--per-language",
            action="store_true",
            help="a run per language the study offers, then the pooled run",
        )

    def handle(self, *args, study, method, language, per_language, **options):
        languages = [*study.offered_languages(), ""] if per_language else [language]
        with self.progress(
            total=len(languages) * len(EXECUTE_STAGES), desc="recompute", unit="stage"
        ) as bar:
            for code in languages:
                try:
                    run = recompute_now(
                        study=study,
                        method=method,
                        language=code,
                        progress=lambda stage: (bar.set_postfix_str(stage), bar.update(1)),
                    )
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
                self.report(study, run, method)

    def report(self, study, run, method):
        if run.language:
            self.stdout.write(f"language {run.language}:")
        summary = run.exclusions.get("summary", {})
        self.stdout.write(
            f"{study.slug}: {run.get_method_display()} over {run.parameters['items']} items × "
            f"{run.parameters['dimensions']} dimensions, {run.n_participants} participants, "
            f"{run.duration_seconds:.2f} s"
        )
        self.stdout.write(
            f"left out: {summary.get('participants_left_out', 0)} participant(s), "
            f"{summary.get('ratings_left_out', 0)} rating(s)"
        )
        for entry in run.exclusions.get("ratings", []):
            self.stdout.write(
                f"  {entry['participant']}: {entry['ratings']} rating(s) in group "
                f"{entry['release_group']} left out ({entry['reason']})"
            )
        reference = published_run(study=study)
        if reference is not None and method == "spearman" and not run.language:
            result = compare_runs(reference=reference, other=run)
            s = result["summary"]
            self.stdout.write(
                f"vs published: {s['pairs']} pairs, {s['identical']} identical, "
                f"{s['within_tolerance']} within {result['tolerance']:g}, {s['different']} "
                f"different (max |Δr| {s['max_abs_delta_r']:.3g})"
            )
            for group in result["by_group"]:
                if group["different"]:
                    self.stdout.write(
                        f"  group {group['release_group']}: {group['different']} of "
                        f"{group['pairs']} pairs differ, max |Δr| {group['max_abs_delta_r']:.3g}"
                    )
        self.stdout.write(f"stored correlation run id: {run.pk}")
