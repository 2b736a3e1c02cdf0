"""Production: secrets have no default and fail loudly; cookies secure; HTTPS assumed.

Plain-HTTP deployments (docker-compose without a TLS proxy) turn DJANGO_SECURE_COOKIES and
SECURE_SSL_REDIRECT off explicitly; TRUSTED_PROXY=true behind a TLS-terminating proxy.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env, set_engine_options

DEBUG = False
try:
    SECRET_KEY = env("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    DATABASES = {"default": env.db("DATABASE_URL")}
except ImproperlyConfigured as exc:  # re-raise with the fix spelled out
    raise ImproperlyConfigured(
        f"{exc}. Production needs DJANGO_SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL set."
    ) from exc
set_engine_options(DATABASES["default"])
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# A persistent connection that died (database restart, fail-over) is replaced before use
# instead of failing the next request of every worker.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Cookies are sent over HTTPS only, unless the site is served over plain HTTP on purpose
# (docker-compose on a laptop): a browser never sends a Secure cookie back over HTTP, so
# nobody could log in or pass a CSRF check there.
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=True)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# The container's own health check asks http://127.0.0.1:8000/healthz without TLS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# X-Forwarded-Proto is believed only behind a proxy that sets it (and drops a client's own):
# trusting it without one lets any client claim HTTPS.
TRUSTED_PROXY = env.bool("TRUSTED_PROXY", default=False)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
