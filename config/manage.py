"""Django's command line for the project: ``manage.py`` and the ``valueportrait`` script.

The console script (``[project.scripts]`` in pyproject.toml) runs from any directory, in a
checkout or from an installed wheel, because the settings are found by module name, not
by a path relative to the working directory.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
