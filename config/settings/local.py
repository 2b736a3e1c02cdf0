"""Local development: debug on, embedded defaults (SQLite, filesystem Celery broker)."""

from .base import *  # noqa: F401,F403
from .base import STATIC_ROOT, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# WhiteNoise warns when STATIC_ROOT is missing; collectstatic is only run for deployments.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
