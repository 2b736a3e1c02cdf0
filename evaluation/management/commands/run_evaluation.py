import time

from django.core.management.base import CommandError

from benchmark.models import ValidatedItemSet
from core.commands import ProjectCommand
from evaluation.errors import EvaluationError
from evaluation.lifecycle import create_run, start_run
from evaluation.models import ModelConfiguration
from evaluation.personas import PersonaError, parse_persona_key
from evaluation.selectors import progress


class Command(ProjectCommand):
    help = "Create and start an evaluation run (the Celery workers do the work)."
    long_running = True  # --wait draws a progress bar

    def add_arguments(self, parser):
        parser.add_argument("--model", required=True, help="model configuration name")
        parser.add_argument("--item-set", required=True, type=int, help="validated item set id")
        parser.add_argument(
            "--variants", help="comma-separated, e.g. v1,v1_reversed (default: all)"
        )
        parser.add_argument(
            "--persona",
            action="append",
            default=[],
            help="e.g. 'age=30-44;gender=woman' (repeatable; default: no persona)",
        )
        parser.add_argument("--repetitions", type=int, default=1)
        parser.add_argument("--scoring", choices=["phrase", "probability"], default="phrase")
        parser.add_argument(
            "--invalid-retries",
            type=int,
            default=2,
            help="how often an unreadable answer is asked again (0: never, as the paper)",
        )
        parser.add_argument(
            "--no-follow-up",
            action="store_true",
            help="re-ask with the same prompt instead of a follow-up naming the allowed answers",
        )
        parser.add_argument(
            "--min-valid-probability",
            type=float,
            default=0.5,
            help="probability scoring: below this mass on the digits an answer is invalid",
        )
        parser.add_argument("--template-set", default="valueportrait-own")
        parser.add_argument("--template-set-version", type=int, default=1)
        parser.add_argument("--no-cache", action="store_true", help="always call the provider")
        parser.add_argument(
            "--mode",
            choices=["live", "batch"],
            default="live",
            help="batch: the provider's batch API at its batch price (OpenAI, Anthropic, Gemini)",
        )
        parser.add_argument(
            "--batch-retry",
            choices=["batch", "live"],
            default="batch",
            help="batch mode: ask failed or expired requests again in a follow-up batch or live",
        )
        parser.add_argument(
            "--language",
            default="en",
            help="put the items in this language (their reviewed translations and the template "
            "set's templates in it; another language than English needs --scoring probability)",
        )
        parser.add_argument("--label", default="")
        parser.add_argument("--wait", action="store_true", help="print progress until the run ends")

    def handle(self, *args, **opts):
        config = ModelConfiguration.objects.filter(name=opts["model"]).first()
        if config is None:
            raise CommandError(f"no model configuration named {opts['model']!r}")
        item_set = ValidatedItemSet.objects.filter(pk=opts["item_set"]).first()
        if item_set is None:
            raise CommandError(f"item set {opts['item_set']} does not exist")
        try:
            personas = [parse_persona_key(p) for p in opts["persona"]]
            run = create_run(
                model_config=config,
                item_set=item_set,
                variants=opts["variants"].split(",") if opts["variants"] else None,
                personas=personas,
                repetitions=opts["repetitions"],
                scoring=opts["scoring"],
                min_valid_probability=opts["min_valid_probability"],
                invalid_retries=opts["invalid_retries"],
                reask_follow_up=not opts["no_follow_up"],
                use_cache=not opts["no_cache"],
                mode=opts["mode"],
                batch_retry=opts["batch_retry"],
                template_set=opts["template_set"],
                template_set_version=opts["template_set_version"],
                language=opts["language"],
                label=opts["label"],
            )
            run = start_run(run_id=run.pk)
        except (EvaluationError, PersonaError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"run #{run.pk} queued ({progress(run=run)['expected']} answers to get)")
        if opts["wait"]:
            self._wait(run)

    def _wait(self, run, poll_seconds: float = 2.0) -> None:
        """A progress bar until the run ends, then one line with the outcome."""
        state = progress(run=run)
        with self.progress(total=state["expected"], unit="answer") as bar:
            while True:
                run.refresh_from_db()
                state = progress(run=run)
                bar.update(state["answered"] - bar.n)
                bar.set_postfix_str(
                    f"{state['status']}, {state['invalid']} invalid, {state['failed']} failed"
                )
                if not run.is_active:
                    break
                time.sleep(poll_seconds)
        self.stdout.write(
            f"run #{run.pk} {state['status']}: {state['done']} valid, {state['invalid']} invalid, "
            f"{state['failed']} failed of {state['expected']}"
            + (f" ({run.error})" if run.error else "")
        )
