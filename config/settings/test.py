"""Test settings: fast hashing, quiet logging; the database still comes from DATABASE_URL."""

from .base import *  # noqa: F401,F403
from .base import LANGUAGES, LOGGING, STATIC_ROOT

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise warns when STATIC_ROOT is missing; collectstatic is only run for deployments.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# Every test client comes from 127.0.0.1; the entry rate limit has its own tests, which set
# their own rate.
SURVEY_ENTRY_RATE = "100000/m"

# Tests send many API requests from one user and one address; the throttles' own tests
# (tests/core/test_throttling.py) restore the real rates.
API_USER_RATE = "100000/minute"
API_ANON_RATE = "100000/minute"
# Django's test client logs in without a request, which django-axes refuses; the login
# limit's own tests (tests/core/test_login_limits.py) turn it on.
AXES_ENABLED = False

# Arabic is the right-to-left test locale: its catalogue (locale/ar/, written by the project)
# is complete, but it is not offered to real studies until a native speaker has reviewed it,
# so only the tests add it to the languages a study may use.
LANGUAGES = [*LANGUAGES, ("ar", "العربية")]
