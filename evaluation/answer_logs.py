"""Per-answer logs of a run as JSON Lines, parquet or a Hugging Face ``datasets`` directory.

Pure (no Django): takes the frames :func:`evaluation.selectors.answer_log_frames` yields, one
chunk of answers at a time, and writes each chunk as it comes, so a large run never sits in
memory whole. Every format carries the same columns with the same types
(:data:`ANSWER_LOG_SCHEMA`); the dataset card written with the ``hf`` format lists them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, TextIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.tabular import records, rows_to_csv

FORMATS = ("jsonl", "csv", "parquet", "hf")

# (name, type, description): the one definition of the columns, their order and meaning.
ANSWER_LOG_FIELDS: list[tuple[str, pa.DataType, str]] = [
    ("response_id", pa.int64(), "Id of the stored answer."),
    ("run_id", pa.int64(), "Evaluation run."),
    ("model", pa.string(), "Model configuration name in this deployment."),
    ("provider", pa.string(), "openai, anthropic, gemini, local or reference."),
    ("model_id", pa.string(), "The provider's model name the run asked for."),
    ("model_snapshot", pa.string(), "Model version the provider reported ('' if none)."),
    ("item_id", pa.int64(), "Item (scenario + response option) id."),
    ("item_code", pa.string(), "scenario_id/option_id, as in the paper."),
    ("scenario_id", pa.string(), "The scenario's external id (else its database id)."),
    ("option_id", pa.int64(), "Response option number within its scenario."),
    ("dimensions", pa.list_(pa.string()), "family:dimension the item set selected it for."),
    ("template_set", pa.string(), "Prompt template set."),
    ("template_set_version", pa.int64(), "Version of the template set."),
    ("variant", pa.string(), "Prompt variant (wording and option order)."),
    ("persona", pa.string(), "Persona key the model was asked as ('' = none)."),
    ("repetition", pa.int64(), "Repetition number (0-based)."),
    ("prompt_sha256", pa.string(), "SHA-256 of the prompt actually sent ('' = not sent)."),
    ("prompt_text", pa.string(), "The prompt rebuilt from the run's template (null: none)."),
    (
        "prompt_text_matches",
        pa.bool_(),
        "Whether the rebuilt prompt hashes to prompt_sha256 (null: nothing sent to compare).",
    ),
    ("raw_text", pa.string(), "The model's final answer text."),
    ("reasoning", pa.string(), "Reasoning text the provider returned, if any."),
    ("invalid_answers", pa.list_(pa.string()), "Earlier unreadable attempts (re-asked)."),
    ("state", pa.string(), "valid, invalid (kept, not rated) or failed (request error)."),
    ("rating", pa.float64(), "Rating 1-6 read from the answer (null unless valid)."),
    ("label", pa.string(), "Answer phrase the rating was read from."),
    ("parse_method", pa.string(), "exact, tolerant, negation, invalid, imported."),
    ("reason", pa.string(), "Why the answer is invalid or failed ('' when valid)."),
    ("several_options", pa.bool_(), "The answer named two or more different options."),
    ("attempts", pa.int64(), "Calls made for this answer (re-asks included)."),
    ("probabilities", pa.list_(pa.float64()), "P(rating 1..6) from the first token (null)."),
    ("valid_mass", pa.float64(), "First-token probability on the six digits."),
    ("expected_rating", pa.float64(), "Probability-weighted rating."),
    ("reference_rating", pa.float64(), "Imported raw answers: the paper parser's rating."),
    ("input_tokens", pa.int64(), "Input tokens (all attempts)."),
    ("output_tokens", pa.int64(), "Output tokens (all attempts)."),
    ("latency_ms", pa.int64(), "Wall time of the answer's calls in ms (null: imported)."),
    (
        "cost_usd",
        pa.float64(),
        "Tokens at the configured prices, at the provider's batch price when batched (a "
        "cached answer was not paid again: see cached).",
    ),
    ("cached", pa.bool_(), "Served from the response cache."),
    ("batched", pa.bool_(), "Answered through the provider's batch API (batch mode)."),
    ("request_params", pa.string(), "JSON of the parameters sent with the request."),
    ("answered_at", pa.timestamp("us", tz="UTC"), "When the answer was stored."),
]
ANSWER_LOG_SCHEMA = pa.schema([pa.field(name, kind) for name, kind, _ in ANSWER_LOG_FIELDS])
ANSWER_LOG_COLUMNS = [name for name, _, _ in ANSWER_LOG_FIELDS]


def to_table(frame: pd.DataFrame) -> pa.Table:
    """One chunk as an Arrow table of :data:`ANSWER_LOG_SCHEMA` (a column missing or of
    another type is an error here, not a silently different file)."""
    return pa.Table.from_pandas(
        frame[ANSWER_LOG_COLUMNS], schema=ANSWER_LOG_SCHEMA, preserve_index=False
    )


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def jsonl_chunks(frames: Iterable[pd.DataFrame]) -> Iterator[str]:
    """One string of JSON lines per chunk (for a streamed HTTP response)."""
    for frame in frames:
        rows = to_table(frame).to_pylist()
        if rows:
            yield "".join(
                json.dumps(row, ensure_ascii=False, default=_json_default) + "\n" for row in rows
            )


def csv_chunks(frames: Iterable[pd.DataFrame]) -> Iterator[str]:
    """The header, then one string of CSV lines per chunk (lists as JSON text, times in ISO
    8601, text cells spreadsheet-safe as every CSV export)."""
    yield rows_to_csv([], ANSWER_LOG_COLUMNS)
    for frame in frames:
        rows = records(to_table(frame).to_pylist())
        if rows:
            yield rows_to_csv(rows, ANSWER_LOG_COLUMNS, header=False)


def write_csv(frames: Iterable[pd.DataFrame], handle: TextIO) -> int:
    """Write CSV to ``handle`` (the header even without answers); returns the number of rows."""
    count = 0

    def counted() -> Iterator[pd.DataFrame]:
        nonlocal count
        for frame in frames:
            count += len(frame)
            yield frame

    for chunk in csv_chunks(counted()):
        handle.write(chunk)
    return count


def write_jsonl(frames: Iterable[pd.DataFrame], handle: TextIO) -> int:
    """Write JSON lines to ``handle``; returns the number of rows."""
    count = 0
    for chunk in jsonl_chunks(frames):
        handle.write(chunk)
        count += chunk.count("\n")
    return count


def write_parquet(frames: Iterable[pd.DataFrame], sink: str | Path | BinaryIO) -> int:
    """Write one parquet file (a row group per chunk, zstd); returns the number of rows.
    A run without answers gives a valid file with the columns and no rows."""
    count = 0
    with pq.ParquetWriter(sink, ANSWER_LOG_SCHEMA, compression="zstd") as writer:
        for frame in frames:
            table = to_table(frame)
            if table.num_rows:
                writer.write_table(table)
                count += table.num_rows
    return count


DATA_FILE = "data/answers-00000-of-00001.parquet"


def dataset_card(*, title: str, description: str, rows: int) -> str:
    """README.md of the dataset directory: the loader configuration the ``datasets`` library
    reads from its YAML header, what the rows are and every column."""
    header = "\n".join(
        [
            "---",
            "configs:",
            "- config_name: default",
            "  data_files:",
            "  - split: train",
            f"    path: {DATA_FILE}",
            "---",
        ]
    )
    columns = "\n".join(f"| `{name}` | `{kind}` | {doc} |" for name, kind, doc in ANSWER_LOG_FIELDS)
    return f"""{header}

# {title}

{description}

One row per stored answer ({rows} rows), valid or not: invalid answers keep their text and the
reason they could not be read, failed requests their error. Written by Value Portrait's
`export_answers`.

Load it with

```python
import datasets
answers = datasets.load_dataset("parquet", data_dir="<this directory>/data")["train"]
# or: datasets.load_dataset("<this directory>")["train"]
```

## Columns

| column | type | meaning |
| --- | --- | --- |
{columns}
"""


def write_hf_dataset(
    frames: Iterable[pd.DataFrame], directory: str | Path, *, title: str, description: str
) -> int:
    """A directory the ``datasets`` library loads: the parquet data file under ``data/`` and a
    README.md dataset card with the schema. Returns the number of rows."""
    directory = Path(directory)
    (directory / DATA_FILE).parent.mkdir(parents=True, exist_ok=True)
    rows = write_parquet(frames, directory / DATA_FILE)
    (directory / "README.md").write_text(
        dataset_card(title=title, description=description, rows=rows), encoding="utf-8"
    )
    return rows
