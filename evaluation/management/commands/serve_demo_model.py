"""``manage.py serve_demo_model [--port 8080] [--host 127.0.0.1]``: the demo's scripted model
as ``make run`` serves it, on a free port when the wanted one is taken (and the demo model
configuration pointed there); runs until stopped."""

from __future__ import annotations

import threading

from core.commands import ProjectCommand
from evaluation.demo import serve_demo_model


class Command(ProjectCommand):
    help = (
        "Serve the demo's scripted model (not a language model) for the demo configuration "
        "demo-local-server; another port, said plainly, when the wanted one is taken."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8080)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port: int, host: str, **options) -> None:
        server = serve_demo_model(port=port, host=host, stdout=self.stdout)
        self.stdout.flush()  # said now, not when the buffer fills beside the web server's log
        if server is None:
            return
        try:
            threading.Event().wait()  # serve until Ctrl-C or make's kill
        except KeyboardInterrupt:
            pass
        finally:
            server.__exit__(None, None, None)
