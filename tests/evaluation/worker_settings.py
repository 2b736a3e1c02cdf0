"""Settings for the Celery worker subprocesses of the evaluation tests.

The test settings, with a short Redis visibility timeout so a batch held by a worker that
was killed is delivered again within seconds (production keeps an hour).
"""

import os

from config.settings.test import *  # noqa: F401,F403
from config.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS

CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": int(os.environ.get("VP_TEST_VISIBILITY_TIMEOUT", "6")),
    # Sweep for abandoned messages every second (kombu's default is every ~100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
