import time
import tomllib
from pathlib import Path

from django.core.management.base import CommandError

from core.commands import ProjectCommand
from evaluation.errors import InvalidSweep
from evaluation.models import EvaluationRun
from evaluation.selectors import sweep_progress
from evaluation.sweeps import start_sweep


class Command(ProjectCommand):
    help = (
        "Start the runs of a sweep file (TOML: models × item sets × template sets × personas "
        "× repetitions); runs already done with the same parameters are skipped. The format "
        "is in the README (evaluation section)."
    )
    long_running = True  # --wait draws a progress bar

    def add_arguments(self, parser):
        parser.add_argument("path", help="the sweep file (.toml)")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="draw a progress bar until no run of the sweep is queued, running or scoring",
        )
        parser.add_argument(
            "--poll-seconds", type=float, default=2.0, help="how often --wait looks (seconds)"
        )

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
        self._report("progress", sweep_progress(sweep=sweep))
        if opts["wait"]:
            self._report("sweep done", self._wait(sweep, opts["poll_seconds"]))

    def _report(self, heading: str, state: dict) -> None:
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(state["status_counts"].items()))
        self.stdout.write(
            f"{heading}: {statuses}; {state['units_answered']} of {state['units_expected']} "
            f"answers ({state['units_failed']} failed)"
        )

    def _wait(self, sweep, poll_seconds: float) -> dict:
        """A progress bar over the sweep's answers until none of its runs is active."""
        active = set(EvaluationRun.ACTIVE)
        state = sweep_progress(sweep=sweep)
        with self.progress(total=state["units_expected"], unit="answer") as bar:
            while True:
                state = sweep_progress(sweep=sweep)
                bar.update(state["units_answered"] - bar.n)
                counts = state["status_counts"]
                bar.set_postfix_str(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
                if not active & set(counts):
                    return state
                time.sleep(poll_seconds)
