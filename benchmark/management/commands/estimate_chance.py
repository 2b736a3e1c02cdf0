"""``manage.py estimate_chance --study SLUG [--correlations published|latest|RUN_ID]
[--permutations 200] [--splits 10] [--seed 2025] [--max-share 0.1] [--no-progress]``.

The progress bar (stderr, on a terminal) counts permutations and splits: the preset's
estimate, the search for the threshold that bounds the chance share, and that threshold's
estimate; it moves once per block of permutations, so the vectorised computation is not
slowed."""

from django.core.management.base import CommandError

from benchmark.estimates import (
    DEFAULT_MAX_SHARE,
    DEFAULT_PERMUTATIONS,
    DEFAULT_SEED,
    DEFAULT_SPLITS,
    headline_chance_steps,
    store_run_chance,
)
from benchmark.selectors import resolve_run
from core.commands import ProjectCommand


class Command(ProjectCommand):
    help = (
        "Estimate how many pairs the paper preset selects by chance on a correlation run "
        "(seeded permutations of whole value profiles among the raters), its split-half "
        "replication, and the threshold that bounds the chance share; stored on the run."
    )

    study = "required"
    long_running = True  # a progress bar per block of permutations (--no-progress: none)

    def add_arguments(self, parser):
        parser.add_argument("--correlations", default="latest")
        parser.add_argument("--permutations", type=int, default=DEFAULT_PERMUTATIONS)
        parser.add_argument("--splits", type=int, default=DEFAULT_SPLITS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--max-share", type=float, default=DEFAULT_MAX_SHARE)

    def handle(self, *args, study, correlations, permutations, splits, seed, max_share, **o):
        if permutations < 2 or splits < 1:
            raise CommandError("--permutations must be at least 2 and --splits at least 1")
        total = headline_chance_steps(n_permutations=permutations, n_splits=splits)
        try:
            run = resolve_run(study=study, spec=correlations)
            with self.progress(total=total, desc="chance", unit="perm") as bar:
                chance = store_run_chance(
                    run=run,
                    n_permutations=permutations,
                    n_splits=splits,
                    seed=seed,
                    max_share=max_share,
                    progress=bar.update,
                )
                if bar.n < total:  # no bounding threshold: its estimate was not computed
                    bar.total = bar.n
                    bar.refresh()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if "unavailable" in chance:
            self.stdout.write(f"run #{run.pk}: no estimate: {chance['unavailable']}")
            return
        for label, key in (("paper preset", "paper_rule"), ("chance-bounded", "bounded_rule")):
            entry = chance[key]
            if "unavailable" in entry:
                self.stdout.write(f"{label}: {entry['unavailable']}")
                continue
            null, split = entry["expected_chance_selections"], entry["split_half_replication"]
            again = "—" if split["share"] is None else f"{split['share']:.0%}"
            self.stdout.write(
                f"{label} (r {entry['rule']['mode']} {entry['rule']['threshold']:g}): "
                f"{entry['selected']} pairs selected, {null['mean']:.1f} ± {null['sd']:.1f} "
                f"expected by chance ({null['permutations']} permutations, seed {null['seed']}); "
                f"{again} selected again in both halves ({split['splits']} splits)"
            )
        self.stdout.write(f"stored on correlation run #{run.pk}")
