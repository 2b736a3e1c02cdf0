from django.core.management.base import CommandError

from core.commands import ProjectCommand
from evaluation.prompts import TemplateError
from evaluation.services import load_prompt_templates


class Command(ProjectCommand):
    help = (
        "Load prompt templates from a directory in the release's layout "
        "(<variant>/reddit_prompt.txt and <variant>/sharegpt_prompt.txt, with {title} {text} "
        "{content}), e.g. ../shared/data/valueportrait/lm_evaluation/prompts."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--name", default="valueportrait-2025-release", help="template set name"
        )
        parser.add_argument("--set-version", type=int, default=1)

    def handle(self, *args, directory, name, set_version, **options):
        try:
            created, updated = load_prompt_templates(
                directory=directory, set_name=name, set_version=set_version
            )
        except TemplateError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"template set {name} v{set_version}: {created} created, {updated} updated"
            )
        )
