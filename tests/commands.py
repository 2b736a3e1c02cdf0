"""Helpers for the management commands' tests."""

from __future__ import annotations

import io


class Terminal(io.StringIO):
    """A stream that says it is a terminal (progress bars draw only on one)."""

    def isatty(self) -> bool:
        return True
