"""Build hook: the wheel carries the site's templates, static files and manage.py.

In a checkout they sit beside the packages (templates/, static/, manage.py). An installed
project has no checkout, so the build copies them into the ``config`` package as
``config/site/``, where the settings look for them (``config.settings.base.SITE_DIR``).
Everything else about the build is declared in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SITE_FILES = ("templates", "static", "locale", "manage.py")
SITE_PACKAGE_DIR = Path("config") / "site"


class BuildWithSiteFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout itself
            return
        target = Path(self.build_lib) / SITE_PACKAGE_DIR
        target.mkdir(parents=True, exist_ok=True)
        for name in SITE_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    target / name,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithSiteFiles})
