"""The one convention of every management command, implemented once.

- ``--study SLUG`` names a study (old spellings ``--study-slug`` and a positional slug are
  accepted for one release, with a warning on stderr).
- ``--output PATH`` (``-o``) names the file to write, ``-`` for standard output (old spelling
  ``--out``, with a warning); the format comes from ``--format`` or else from the file's
  extension (``ratings.parquet``), and a path whose format cannot be told is refused.
  When the data goes to standard output, the command's summary goes to stderr, so a pipe
  receives only the data.
- ``--no-progress`` turns off the progress bar of a long command; bars are drawn on stderr
  and only when stderr is a terminal.

A command subclasses :class:`ProjectCommand` and sets the class attributes that apply
(``study``, ``output_formats``, ``long_running``, the old spellings it had); its
``handle`` receives ``study`` (a :class:`~survey.models.Study`, or its slug for a command
that creates it, or None), ``output`` and
``format`` already resolved, and writes through :meth:`ProjectCommand.open_output`,
:meth:`ProjectCommand.write_table` and :meth:`ProjectCommand.say`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core import tabular
from survey.models import Study

STDOUT = "-"
BINARY_FORMATS = frozenset({"parquet"})


def _raw_stream(wrapper) -> IO:
    """The stream under Django's ``OutputWrapper`` (which would end each write with a newline,
    breaking a bar redrawn in place or a binary file)."""
    return getattr(wrapper, "_out", wrapper)


def deprecated(stderr: IO, old: str, new: str) -> None:
    stderr.write(
        f"warning: {old} is deprecated and will be removed in the next release; use {new}\n"
    )


def find_study(slug: str) -> Study:
    """The study with ``slug``; a CommandError listing the known slugs otherwise."""
    study = Study.objects.filter(slug=slug).first()
    if study is None:
        known = ", ".join(Study.objects.order_by("slug").values_list("slug", flat=True))
        raise CommandError(f"no study {slug!r} (known: {known or 'none'})")
    return study


class ProjectCommand(BaseCommand):
    # "required", "optional" or None: whether the command takes --study SLUG.
    study: str | None = None
    study_help = "study slug"
    # False: handle() gets the slug itself (a study the command creates), not the Study.
    study_must_exist = True
    study_default: str | None = None
    # Old spellings of --study kept for one release.
    legacy_study_options: tuple[str, ...] = ()
    legacy_study_positional = False
    # Formats the command writes (non-empty: it takes --output and --format).
    output_formats: tuple[str, ...] = ()
    output_required = True
    output_default: str | None = None  # e.g. "-": standard output unless --output is given
    output_help = "file to write, '-' for standard output"
    # Formats that are directories, not files (their --output is a folder).
    directory_formats: tuple[str, ...] = ()
    legacy_output_options: tuple[str, ...] = ()
    # Long commands draw a progress bar (on stderr, when it is a terminal).
    long_running = False

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if self.study:
            parser.add_argument(
                "--study",
                dest="study",
                metavar="SLUG",
                help=self.study_help + (" (required)" if self.study == "required" else ""),
            )
            for old in self.legacy_study_options:
                parser.add_argument(old, dest=legacy_dest(old), help=argparse.SUPPRESS)
            if self.legacy_study_positional:
                parser.add_argument(
                    "legacy_study", nargs="?", metavar="SLUG", help=argparse.SUPPRESS
                )
        if self.output_formats:
            parser.add_argument(
                "-o", "--output", dest="output", metavar="PATH", help=self.output_help
            )
            for old in self.legacy_output_options:
                parser.add_argument(old, dest=legacy_dest(old), help=argparse.SUPPRESS)
            parser.add_argument(
                "--format",
                dest="format",
                choices=self.output_formats,
                help="default: from the output's extension",
            )
        if self.long_running:
            parser.add_argument(
                "--no-progress", action="store_true", help="do not draw the progress bar"
            )
        return parser

    # --- resolving the convention ---------------------------------------------------------

    def execute(self, *args, **options):
        stderr = options.get("stderr") or sys.stderr
        if self.study:
            options["study"] = self._resolve_study(options, stderr)
        if self.output_formats:
            options["output"], options["format"] = self._resolve_output(options, stderr)
        self.output = options.get("output")
        self.no_progress = bool(options.get("no_progress"))
        return super().execute(*args, **options)

    def _resolve_study(self, options: dict, stderr: IO) -> Study | str | None:
        given = {"--study": options.get("study")}
        for old in self.legacy_study_options:
            given[old] = options.pop(legacy_dest(old), None)
        if self.legacy_study_positional:
            given["a positional study slug"] = options.pop("legacy_study", None)
        named = {spelling: slug for spelling, slug in given.items() if slug}
        for spelling in named:
            if spelling != "--study":
                deprecated(stderr, spelling, "--study SLUG")
        if len(set(named.values())) > 1:
            raise CommandError(f"two different studies given: {named}")
        slug = next(iter(named.values()), self.study_default)
        if slug is None:
            if self.study == "required":
                raise CommandError("give the study: --study SLUG")
            return None
        return find_study(slug) if self.study_must_exist else slug

    def _resolve_output(self, options: dict, stderr: IO) -> tuple[str | None, str | None]:
        output = options.get("output")
        for old in self.legacy_output_options:
            value = options.pop(legacy_dest(old), None)
            if value is not None:
                deprecated(stderr, old, "--output PATH")
                if output is not None and output != value:
                    raise CommandError(f"both --output {output} and {old} {value} given")
                output = value
        fmt = options.get("format")
        output = output if output is not None else self.output_default
        if output is None:
            if self.output_required:
                raise CommandError("give the output: --output PATH ('-' for standard output)")
            return None, fmt
        if fmt is None:
            if output == STDOUT or len(self.output_formats) == 1:
                fmt = self.output_formats[0]
            else:
                fmt = tabular.format_from_path(output, self.output_formats)
                if fmt is None and self.directory_formats:
                    fmt = self.directory_formats[0]
        if fmt is None:
            raise CommandError(
                f"cannot tell the format of {output!r} from its extension: give --format "
                f"({', '.join(self.output_formats)})"
            )
        if output == STDOUT and fmt in self.directory_formats:
            raise CommandError(f"{fmt} is a directory: it cannot go to standard output")
        return output, fmt

    # --- writing --------------------------------------------------------------------------

    @property
    def to_stdout(self) -> bool:
        return getattr(self, "output", None) == STDOUT

    @contextmanager
    def open_output(self, *, binary: bool = False) -> Iterator[IO]:
        """The output as an open file (text UTF-8, or ``binary``); standard output for ``-``.
        A file that cannot be written is a CommandError naming it."""
        if self.to_stdout:
            stream = _raw_stream(self.stdout)
            if binary:
                stream = getattr(stream, "buffer", None)
                if stream is None:
                    raise CommandError("this standard output takes no binary data")
            yield stream
            stream.flush()
            return
        path = Path(self.output)
        if not path.parent.is_dir():
            raise CommandError(f"folder {path.parent} does not exist")
        try:
            handle = open(path, "wb") if binary else open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
        with handle:
            yield handle

    def write_text(self, text: str) -> None:
        with self.open_output() as handle:
            handle.write(text)

    def write_json(self, data: Any) -> None:
        self.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n")

    def write_table(self, table: tabular.Table, fmt: str) -> int:
        """Write ``table`` (a DataFrame or row dicts) in ``fmt`` (csv, json, parquet) — the
        same records the API's renderers write. Returns the number of rows."""
        rows = tabular.records(table)
        if fmt == "parquet":
            with self.open_output(binary=True) as handle:
                tabular.write_parquet(rows, handle)
        else:
            self.write_text(
                tabular.rows_to_csv(rows) if fmt == "csv" else tabular.rows_to_json(rows)
            )
        return len(rows)

    def say(self, message: str) -> None:
        """The command's summary: stdout, or stderr when the data went to stdout."""
        (self.stderr if self.to_stdout else self.stdout).write(message)

    def progress(self, **tqdm_options) -> tqdm:
        """A tqdm bar on stderr; disabled by ``--no-progress`` or when stderr is not a
        terminal (a log file or a pipe gets no bar)."""
        stream = _raw_stream(self.stderr)
        interactive = getattr(stream, "isatty", lambda: False)()
        disabled = getattr(self, "no_progress", False) or not interactive
        return tqdm(file=stream, disable=disabled, dynamic_ncols=True, **tqdm_options)


def legacy_dest(option: str) -> str:
    """The option's destination name for an old spelling (``--out`` -> ``legacy_out``)."""
    return "legacy_" + option.lstrip("-").replace("-", "_")
