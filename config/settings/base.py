"""Settings shared by every environment.

Every value comes from the environment (django-environ) with a safe local default, so a
fresh clone runs on SQLite and a server-less Celery broker without any configuration.
Production (``config.settings.production``) removes the defaults that must not exist there.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

CONFIG_DIR = Path(__file__).resolve().parent.parent
# The site's templates/, static/ and manage.py sit beside the packages in a checkout; an
# installed wheel carries them inside this package as config/site/ (setup.py's build hook).
INSTALLED_SITE_DIR = CONFIG_DIR / "site"
IS_CHECKOUT = not INSTALLED_SITE_DIR.is_dir()
SITE_DIR = CONFIG_DIR.parent if IS_CHECKOUT else INSTALLED_SITE_DIR
# The instance's own files (.env, db.sqlite3, var/, staticfiles/): the checkout, or for an
# installed project VALUEPORTRAIT_HOME (default: the working directory), never site-packages.
BASE_DIR = (
    CONFIG_DIR.parent
    if IS_CHECKOUT
    else Path(os.environ.get("VALUEPORTRAIT_HOME", os.getcwd())).resolve()
)
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env file is optional; real deployments set the environment directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "axes",
    "core",
    "survey",
    "benchmark",
    "evaluation",
    "dashboards",
    "release",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a request from Accept-Language among LANGUAGES; participant pages then
    # switch to the participant's study language (survey.languages).
    "django.middleware.locale.LocaleMiddleware",
    "survey.middleware.SurveyEntryRateLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes' backend first: it refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SITE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.roles.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)


def set_engine_options(database: dict) -> None:
    """Per-engine connection options (also applied by the production settings)."""
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web process and the worker read and write the same file concurrently.
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        options.setdefault("timeout", 20)
        options.setdefault("transaction_mode", "IMMEDIATE")
    elif database["ENGINE"] == "django.db.backends.postgresql":
        # The survey's answer statements (survey.services.answers) are kept prepared on each
        # connection: PostgreSQL then skips parsing and planning them on every answer. The
        # ORM's own queries bind client-side and are never prepared, whatever this says.
        # Turn it off behind a transaction-mode pooler that cannot keep prepared statements.
        prepared = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
        options.setdefault("prepare_threshold", 0 if prepared else None)


set_engine_options(DATABASES["default"])

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The languages the participant pages ship a message catalogue for (locale/<code>/), each
# named in its own language (the study's language picker shows these names). A study offers
# some of them (Study.language, Study.languages).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("ko", "한국어")]
LOCALE_PATHS = [SITE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Where collectstatic writes (the Docker image sets it; WhiteNoise serves from there).
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# plotly.js comes from the plotly package itself and is served as /static/plotly/plotly.min.js
# (never from a CDN).
STATICFILES_DIRS = [
    SITE_DIR / "static",
    ("plotly", str(Path(__import__("plotly").__file__).parent / "package_data")),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- Redis and Celery -------------------------------------------------------------------
# With REDIS_URL set, Celery uses Redis as its broker. Without it, Celery still runs as a
# real worker process, on kombu's filesystem transport in var/celery (no server needed).
REDIS_URL = env("REDIS_URL", default="")
CELERY_FILESYSTEM_DIR = Path(env("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task taken by a worker that dies (SIGKILL, lost machine) is redelivered after this many
    # seconds. Our tasks are short and idempotent (one unit batch, one correlation run), so
    # a redelivery of a task still running costs a little work, never a duplicate row; a long
    # timeout would leave an interrupted evaluation run waiting for an hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)
    }
else:
    CELERY_BROKER_URL = "filesystem://"
    # kombu does not create the folders itself.
    for _folder in ("queue", "processed", "control"):
        (CELERY_FILESYSTEM_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 100,
    # Scopes "user" (per user or token) and "anon" (per client address): core/throttling.py.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.UserThrottle",
        "core.throttling.AnonymousThrottle",
    ],
}
# API requests allowed per user (token or session) and per anonymous client address, in
# DRF's syntax (count/second|minute|hour|day); beyond them 429 with Retry-After. A script
# paging through an export at 1,000 rows a page stays far below the user rate.
API_USER_RATE = env("API_USER_RATE", default="120/minute")
API_ANON_RATE = env("API_ANON_RATE", default="20/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Value Portrait API",
    "DESCRIPTION": "Studies, validated item sets, evaluation runs and model portraits.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The browsable UI's JavaScript and CSS are served from our static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two serializers have a field named "mode" (a run's live/batch, an item set's rule):
    # the run's choice set is named here, not by a hash.
    "ENUM_NAME_OVERRIDES": {"RunModeEnum": "evaluation.models.EvaluationRun.Mode"},
}

# --- Project settings --------------------------------------------------------------------
# Provider API keys are never stored in the database: model configurations name the
# environment variable that holds the key, and it is read from os.environ at call time.
VALUEPORTRAIT_DATA_DIR = env(
    "VALUEPORTRAIT_DATA_DIR", default=str(BASE_DIR.parent / "shared" / "data" / "valueportrait")
)

# Cached provider answers older than this many days are asked again (0: never expire).
EVALUATION_CACHE_MAX_AGE_DAYS = env.int("EVALUATION_CACHE_MAX_AGE_DAYS", default=0)

# Torch's intra-op threads for a local model in a worker process (see evaluation/providers/
# local.py: one thread per core oversubscribes a worker that answers several units at once).
EVALUATION_LOCAL_THREADS = env.int("EVALUATION_LOCAL_THREADS", default=1)

# Batch mode: how often Celery beat polls (config/celery.py) the providers' batches (seconds), and how long a
# poller may hold a batch before another may take it over (its worker died).
EVALUATION_BATCH_POLL_SECONDS = env.int("EVALUATION_BATCH_POLL_SECONDS", default=60)
EVALUATION_BATCH_CLAIM_SECONDS = env.int("EVALUATION_BATCH_CLAIM_SECONDS", default=900)

# New survey entries per client address (django-ratelimit syntax: count/period). Generous,
# because many participants can share one university or mobile-carrier address.
SURVEY_ENTRY_RATE = env("SURVEY_ENTRY_RATE", default="60/10m")

# Prolific's researcher API (survey.prolific). The token is never a setting: each study names
# the environment variable holding it. The webhook's signing secret likewise comes from the
# variable named here (empty: the webhook receiver refuses every request).
PROLIFIC_API_URL = env("PROLIFIC_API_URL", default="https://api.prolific.com/api/v1")
PROLIFIC_RETRY_BACKOFF_SECONDS = env.float("PROLIFIC_RETRY_BACKOFF_SECONDS", default=1.0)
PROLIFIC_WEBHOOK_SECRET_ENV = env("PROLIFIC_WEBHOOK_SECRET_ENV", default="PROLIFIC_WEBHOOK_SECRET")
# Bonus batches whose pay call got no clear answer: Celery beat checks them (and resumes
# interrupted ones) every PROLIFIC_BONUS_CHECK_SECONDS; a batch none of whose bonuses Prolific
# lists this many minutes after the pay call counts as unpaid and is paid again (Prolific pays
# asynchronously, "in the following minutes").
PROLIFIC_BONUS_CHECK_SECONDS = env.int("PROLIFIC_BONUS_CHECK_SECONDS", default=600)
PROLIFIC_BONUS_SETTLE_MINUTES = env.int("PROLIFIC_BONUS_SETTLE_MINUTES", default=60)
# Behind a reverse proxy, name the header holding the client address, e.g. HTTP_X_REAL_IP.
# The survey's entry limit, the API throttles and the login lockout all use it
# (core.throttling.client_address).
RATELIMIT_IP_META_KEY = env("RATELIMIT_IP_META_KEY", default=None)

# Login attempts (django-axes) on /accounts/login/ and /admin/login/: after
# AXES_FAILURE_LIMIT failures for one username from one client address, that pair is locked
# out for AXES_COOLOFF_MINUTES (each further attempt restarts the wait). The lock is per
# username *and* address, so someone guessing a researcher's password from elsewhere never
# locks the researcher out. A success resets the count. Failed attempts (username, address)
# are kept in the database until the cool-off ends; successful logins are not logged.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "core.throttling.login_lockout_response"
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
