"""``manage.py load_demo``: demo items, an open study ``demo`` with ten scripted
participants, demo accounts, and each app's demo data (idempotent).

The survey's demo (items, study, participants, accounts) comes first; then each app that builds on it adds
its own through ``<app>.demo.load_demo(stdout)``. Every app is required (no silent skipping).
"""

import benchmark.demo
import evaluation.demo
from core.commands import ProjectCommand
from survey.services.demo import (
    load_demo_accounts,
    load_demo_items,
    load_demo_participants,
    load_demo_study,
)

DEMO_MODULES_AFTER_SURVEY = (benchmark.demo, evaluation.demo)


class Command(ProjectCommand):
    help = "Load the project's own demo content and print the demo accounts."

    def handle(self, *args, **options):
        items = load_demo_items()
        study = load_demo_study(items)
        added = load_demo_participants(study)
        self.stdout.write(
            f"Demo items: {len(items)}; study '{study.slug}' ({study.get_status_display()}); "
            f"{added} scripted demo participant(s) added."
        )
        for app_demo in DEMO_MODULES_AFTER_SURVEY:
            app_demo.load_demo(self.stdout)
        for account in load_demo_accounts():
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo {account.role} account: username '{account.username}', password '{account.password}'"
                )
            )
        self.stdout.write("Survey link: /s/demo/   Admin: /admin/")
