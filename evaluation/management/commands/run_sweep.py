import tomllib
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evaluation.errors import InvalidSweep
from evaluation.selectors import sweep_progress
from evaluation.sweeps import start_sweep


class Command(BaseCommand):
    help = (
        "Start the runs of a sweep file (TOML: models × item sets × template sets × personas "
        "× repetitions); runs already done with the same parameters are skipped. The format "
        "is in the README (evaluation section)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the sweep file (.toml)")

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        try:
            spec = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise CommandError(f"{path} is not valid TOML: {exc}") from None
        try:
            outcome = start_sweep(spec=spec)
        except InvalidSweep as exc:
            raise CommandError(f"{path}: {exc} (nothing was created)") from None
        sweep = outcome.sweep
        self.stdout.write(
            f"sweep #{sweep.pk} {sweep.name!r}: {len(outcome.started)} run(s) started, "
            f"{len(outcome.skipped_done)} skipped (done with the same parameters), "
            f"{len(outcome.already_active)} already queued or running"
        )
        if outcome.not_started:
            self.stderr.write(
                f"{len(outcome.not_started)} run(s) created but not queued: {outcome.queue_error}"
            )
        state = sweep_progress(sweep=sweep)
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(state["status_counts"].items()))
        self.stdout.write(
            f"progress: {statuses}; {state['units_answered']} of {state['units_expected']} "
            f"answers ({state['units_failed']} failed)"
        )
