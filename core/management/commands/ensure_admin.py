"""``manage.py ensure_admin``: the first superuser from the environment, once.

Reads Django's own ``createsuperuser`` variables: DJANGO_SUPERUSER_USERNAME,
DJANGO_SUPERUSER_PASSWORD and (optional) DJANGO_SUPERUSER_EMAIL. Without a username it does
nothing; when the user exists it does nothing (an existing password is never reset). Unlike
``createsuperuser --noinput`` it can run on every start (docker compose's ``admin`` service),
and it applies the password validators.
"""

import os

from django.core.management.base import CommandError

from core.accounts import AdminAccountError, ensure_superuser
from core.commands import ProjectCommand


class Command(ProjectCommand):
    help = "Create the superuser named by DJANGO_SUPERUSER_USERNAME if it does not exist."

    def handle(self, *args, **options):
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "").strip()
        if not username:
            self.stdout.write("DJANGO_SUPERUSER_USERNAME is not set: no administrator created.")
            return
        try:
            outcome = ensure_superuser(
                username=username,
                password=os.environ.get("DJANGO_SUPERUSER_PASSWORD", ""),
                email=os.environ.get("DJANGO_SUPERUSER_EMAIL", "").strip(),
            )
        except AdminAccountError as exc:
            raise CommandError(str(exc)) from exc
        if outcome.created:
            self.stdout.write(self.style.SUCCESS(f"Superuser {username!r} created."))
        else:
            self.stdout.write(f"Superuser {username!r} exists: left unchanged.")
