"""The web container's health check: ``python -m config.healthcheck``.

Asks the app's ``/healthz`` (a database round trip) over plain HTTP inside the container
and exits 0 only on a 200 answer with status "ok". It sends a Host header that the app
accepts (the first concrete name in ALLOWED_HOSTS), because Django refuses any other host
with a 400. Imports no Django: it runs every few seconds.

HEALTHCHECK_URL overrides the address (default http://127.0.0.1:8000/healthz).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"
TIMEOUT_SECONDS = 5


def host_header(allowed_hosts: str) -> str | None:
    """The first entry of ALLOWED_HOSTS that names a host (not '*' nor a '.domain' pattern)."""
    for entry in allowed_hosts.split(","):
        entry = entry.strip()
        if entry and entry != "*" and not entry.startswith("."):
            return entry
    return None


def check(url: str, allowed_hosts: str) -> tuple[bool, str]:
    headers = {"Accept": "application/json"}
    host = host_header(allowed_hosts)
    if host:
        headers["Host"] = host
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read(1000)
            status = response.status
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url} unreachable: {exc}"
    try:
        healthy = status == 200 and json.loads(body).get("status") == "ok"
    except ValueError:
        healthy = False
    return healthy, f"{url} answered {status}: {body[:200]!r}"


def main() -> int:
    healthy, message = check(
        os.environ.get("HEALTHCHECK_URL", DEFAULT_URL), os.environ.get("ALLOWED_HOSTS", "")
    )
    print(message)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
