"""The item page's server CPU, old tree against this one, in the same run.

```
.venv/bin/python -m perf.compare_item_page --base <commit> [--rounds 2] [--participants 20]
    [--database-name vp_compare_item_page]
```

Checks the ``--base`` commit out into a temporary ``git worktree``, then runs
``perf/profile_answer.py`` (the WSGI application called directly, as gunicorn does; the
median Python CPU time per request of this process, PostgreSQL's CPU beside it) alternately
in the old tree and in this one, ``--rounds`` times each, on the same throwaway database
name, with this checkout's virtualenv. Prints each run's item page and answer figures and
the ratio of the medians. Numbers, not a timed test: the machine's other load moves them,
which is why the rounds alternate.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^(item page|answer):\s+median (-?[\d.]+) ms Python CPU \+ (-?[\d.]+) ms PostgreSQL"
)
STATEMENTS = re.compile(r"^item page:.*?(\d+) statements")


def profile(tree: Path, args) -> dict[str, tuple[float, float]]:
    """{"item page"/"answer": (Python ms, PostgreSQL ms)} of one profile_answer run in ``tree``."""
    command = [
        sys.executable,
        "-m",
        "perf.profile_answer",
        "--participants",
        str(args.participants),
        "--healthz",
        "10",
        "--database-name",
        args.database_name,
    ]
    out = subprocess.run(command, cwd=tree, check=True, capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        match = LINE.match(line)
        if match:
            found[match.group(1)] = (float(match.group(2)), float(match.group(3)))
        statements = STATEMENTS.match(line)
        if statements:
            found["statements"] = (float(statements.group(1)), 0.0)
    if set(found) != {"item page", "answer", "statements"}:
        raise RuntimeError(f"unexpected profile_answer output in {tree}:\n{out}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m perf.compare_item_page", description=__doc__)
    parser.add_argument("--base", required=True, help="the old commit (e.g. main before)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--database-name", default="vp_compare_item_page")
    args = parser.parse_args(argv)

    base_dir = Path(tempfile.mkdtemp(prefix="vp-item-page-base-")) / "tree"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(base_dir), args.base],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    runs: dict[str, list[dict]] = {"old": [], "new": []}
    try:
        for n in range(args.rounds):
            for name, tree in (("old", base_dir), ("new", PROJECT_DIR)):
                result = profile(tree, args)
                runs[name].append(result)
                page, answer = result["item page"], result["answer"]
                print(
                    f"round {n + 1} {name}: item page {page[0]:.3f} ms Python + "
                    f"{page[1]:.3f} ms PostgreSQL, {result['statements'][0]:.0f} statements; "
                    f"answer {answer[0]:.3f} ms Python + {answer[1]:.3f} ms PostgreSQL",
                    flush=True,
                )
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(base_dir)],
            cwd=PROJECT_DIR,
            check=False,
            capture_output=True,
        )

    def median(name: str, what: str, index: int) -> float:
        return statistics.median(r[what][index] for r in runs[name])

    old_page, new_page = median("old", "item page", 0), median("new", "item page", 0)
    old_db, new_db = median("old", "item page", 1), median("new", "item page", 1)
    print(
        f"item page, median of {args.rounds} rounds: Python CPU {old_page:.3f} -> "
        f"{new_page:.3f} ms ({new_page / old_page:.2f}x), PostgreSQL {old_db:.3f} -> "
        f"{new_db:.3f} ms"
    )
    old_answer, new_answer = median("old", "answer", 0), median("new", "answer", 0)
    print(f"answer, median: Python CPU {old_answer:.3f} -> {new_answer:.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
