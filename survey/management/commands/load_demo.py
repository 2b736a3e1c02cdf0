"""``manage.py load_demo``: demo items, an open study ``demo`` and demo accounts (idempotent).

Other apps add their own demo content by providing ``<app>.demo.load_demo(stdout)``.
"""

import importlib

from django.core.management.base import BaseCommand

from survey.services.demo import load_demo_accounts, load_demo_items, load_demo_study

EXTRA_DEMO_MODULES = ("benchmark.demo", "evaluation.demo")


class Command(BaseCommand):
    help = "Load the project's own demo content and print the demo accounts."

    def handle(self, *args, **options):
        items = load_demo_items()
        study = load_demo_study(items)
        self.stdout.write(
            f"Demo items: {len(items)}; study '{study.slug}' ({study.get_status_display()})."
        )
        for module_name in EXTRA_DEMO_MODULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            module.load_demo(self.stdout)
        for account in load_demo_accounts():
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo {account.role} account: username '{account.username}', password '{account.password}'"
                )
            )
        self.stdout.write("Survey link: /s/demo/   Admin: /admin/")
