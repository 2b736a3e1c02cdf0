"""``manage.py survey_bots --study SLUG``: scripted participants take a study end to end.

Like oTree's bots, this checks a study works before real participants arrive: each bot
arrives with Prolific-style parameters, consents, answers every page through the real views
and must reach the completion page (or the screen-out page when told to fail checks). All of
it runs in a transaction that is rolled back, so nothing is kept (``--keep`` keeps it). A
draft or paused study is opened inside that transaction only.
"""

from __future__ import annotations

import random

from django.core.management.base import CommandError
from django.db import transaction

from core.commands import ProjectCommand
from survey.bots import SubmissionRefused, SurveyBot, site_bot_client
from survey.models import Participant, Study


class Rollback(Exception):
    pass


class Command(ProjectCommand):
    help = "Run scripted participants through a study (rolled back unless --keep)."
    study = "required"
    legacy_study_positional = True  # `survey_bots SLUG` before the --study convention
    long_running = True

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=3)
        parser.add_argument(
            "--fail-checks",
            type=int,
            default=0,
            help="attention checks each bot answers wrongly (2+ should end in a screen-out)",
        )
        parser.add_argument(
            "--languages",
            default="",
            help="comma-separated languages the bots take the study in, in turn (?lang=; "
            "default: the study's own), e.g. en,de to try every language before opening",
        )
        parser.add_argument("--keep", action="store_true", help="keep the bots' data")
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        study = options["study"]
        if study.is_imported:
            raise CommandError("imported studies take no participants")
        problems: list[str] = []
        try:
            with transaction.atomic():
                Study.objects.filter(pk=study.pk).update(status=Study.Status.OPEN)
                study.refresh_from_db()
                reason = study.refusal_reason()
                if reason:
                    raise CommandError(reason)
                with self.progress(total=options["participants"], unit="bot") as bar:
                    for n in range(options["participants"]):
                        problems += self.run_bot(study, n, options)
                        bar.update(1)
                if not options["keep"]:
                    raise Rollback
        except Rollback:
            self.stdout.write("Rolled back: nothing the bots did was kept.")
        if problems:
            raise CommandError("; ".join(problems))
        self.stdout.write(self.style.SUCCESS("All bots finished as expected."))

    def run_bot(self, study: Study, n: int, options) -> list[str]:
        rng = random.Random(options["seed"] + n)
        pid = f"BOT{options['seed']}-{n:04d}-{rng.randrange(10**6):06d}"
        bot = SurveyBot(
            study.slug,
            client=site_bot_client(),
            rng=rng,
            fail_checks=options["fail_checks"],
        )
        languages = [code.strip() for code in options["languages"].split(",") if code.strip()]
        language = languages[n % len(languages)] if languages else study.language
        bot.arrive(PROLIFIC_PID=pid, STUDY_ID="BOTS", SESSION_ID=f"S{n}", lang=language)
        if bot.page != "consent":
            return [f"bot {n}: expected the consent page, got status {bot.last.status_code}"]
        try:
            end = bot.run_to_end()
        except SubmissionRefused:
            said = bot.context.get("message", "")
            return [
                f"bot {n} ({language}) was refused (status {bot.last.status_code})"
                + (f": {said}" if said else "")
            ]
        participant = Participant.objects.get(study=study, external_id=pid)
        expected = "screened-out" if options["fail_checks"] >= study.screen_out_after else "done"
        rated = participant.ratings.count()
        logged = sum(1 for entry in bot.log if entry[0] == "item")
        self.stdout.write(
            f"bot {n} ({participant.language}): {end}; status {participant.status}; {rated} ratings stored "
            f"({logged} given); {participant.instrument_responses.count()} questionnaire "
            f"answers; flags {participant.flags or 'none'}"
        )
        problems = []
        if participant.language != language:
            problems.append(f"bot {n} asked for {language!r}, took it in {participant.language!r}")
        if end != expected:
            problems.append(f"bot {n} ended on {end!r}, expected {expected!r}")
        if rated != len({entry[1] for entry in bot.log if entry[0] == "item"}):
            problems.append(f"bot {n}: {rated} ratings stored for {logged} given")
        return problems
