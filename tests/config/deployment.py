"""Readers of the deployment files, as Docker and docker compose read them (test helpers).

Docker is not available here, so the tests read the Dockerfile, .dockerignore and
docker-compose.yml themselves: these helpers implement the parts of the formats the
project's files use (line continuations, ignore patterns with ``**`` and ``!``, compose's
``${VAR:-default}`` interpolation).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.conftest import PROJECT_DIR

DOCKERFILE = PROJECT_DIR / "Dockerfile"
DOCKERIGNORE = PROJECT_DIR / ".dockerignore"
COMPOSE_FILE = PROJECT_DIR / "docker-compose.yml"


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, comments dropped and continuation lines joined."""
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, arguments = whole.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _ignore_regex(pattern: str) -> re.Pattern:
    """Docker's ignore pattern (Go's filepath.Match plus ``**``) as a regular expression."""
    pattern = pattern.strip("/")
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _ignore_regex(line.lstrip("!"))))
    return rules


def ignored(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether Docker leaves ``path`` (relative, '/'-separated) out of the build context:
    the last rule matching the path or one of its parent folders decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    decision = False
    for negated, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            decision = not negated
    return decision


def project_files() -> list[str]:
    """The checkout's files as git sees them: tracked and new ones, not what .gitignore drops."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in listed.split("\0") if name and (PROJECT_DIR / name).is_file())


def build_context(target: Path) -> list[str]:
    """Copy the files Docker would send as the build context into ``target``."""
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    sent = [name for name in project_files() if not ignored(name, rules)]
    for name in sent:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, destination)
    return sent


_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def interpolate(value, variables: dict[str, str]):
    """Compose's interpolation of ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``;
    ``$$`` is a literal ``$``. Applied to every string in a parsed compose document."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = variables.get(name)
        if op == ":-" and not current:
            return arg
        if op == ":?" and not current:
            raise ValueError(f"compose refuses to start: {name}: {arg}")
        return current or ""

    pieces = value.split("$$")
    return "$".join(_VARIABLE.sub(substitute, piece) for piece in pieces)


def compose_services(variables: dict[str, str]) -> dict[str, dict]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())  # resolves anchors and << merges
    return interpolate(document["services"], variables)


def shell_words(command: str) -> list[str]:
    return shlex.split(command)
