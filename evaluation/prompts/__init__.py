"""Prompt templates as versioned data (pure: no Django imports).

A *template* is the text put to a model for one item, with the placeholders ``{title}``,
``{text}`` (the scenario) and ``{content}`` (the response being rated). Templates come in
*variants* named like the release's folders: ``v1``, ``v1_reversed``, ``v2`` ... where
``_reversed`` lists the answer options from "not like me at all" up instead of from "very
much like me" down. Each variant has a *titled* form (advice-column and Reddit posts, which
have a title) and a *chat* form (a chat message, no title).

The project ships its own wordings (:mod:`evaluation.prompts.builtin`);
:func:`load_release_layout` reads a directory in the release's layout so the paper's exact
prompts can be used for replication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from survey.scale import DESCENDING, RATING_OF_LABEL
from survey.scale import LABELS as SCALE_LABELS  # the 6-point scale participants see, 1..6

__all__ = ["DESCENDING", "RATING_OF_LABEL", "SCALE_LABELS"]

TITLED = "titled"
CHAT = "chat"
STYLES = (TITLED, CHAT)
PLACEHOLDERS = ("{title}", "{text}", "{content}")
# The release's file names for the two styles.
RELEASE_FILES = {TITLED: "reddit_prompt.txt", CHAT: "sharegpt_prompt.txt"}
VARIANT_NAME = re.compile(r"^[a-z0-9]+(?:_reversed)?$")


class TemplateError(ValueError):
    """A template or template directory does not have the expected shape."""


@dataclass(frozen=True)
class TemplateSpec:
    """One prompt template: ``variant`` × ``style`` with its text and answer-option order.

    ``digit_text`` (optional) is the same wording asking for a digit 1-6, where digit *k*
    means the *k*-th option as listed; it enables probability scoring.
    """

    variant: str
    style: str
    text: str
    option_order: tuple[str, ...]
    digit_text: str = ""
    metadata: dict = field(default_factory=dict)

    @property
    def reversed(self) -> bool:
        return self.option_order[0] == SCALE_LABELS[0]


# The re-ask's instruction (English; a built-in language brings its own, see
# ``evaluation.prompts.builtin.follow_up_wording``).
FOLLOW_UP = {
    "phrase": "Your answer could not be read as one of the options. Answer again with exactly "
    "one of the following phrases and nothing else:",
    "digit": "Your answer could not be read as one of the options. Answer again with the "
    "number of exactly one of the following options and nothing else:",
}


def follow_up(
    option_order: tuple[str, ...] | list[str],
    *,
    digits: bool = False,
    shown: dict[str, str] | None = None,
    wording: dict[str, str] | None = None,
) -> str:
    """The re-ask after an unreadable answer: says so and names the allowed answers, in the
    order the prompt listed them (as ``k = phrase`` when digits were asked for); ``shown``
    maps each English label to the label the prompt showed and ``wording`` is the
    instruction in the prompt's language (a run in another language; default English)."""
    wording = wording or FOLLOW_UP
    listed = [shown[label] if shown else label for label in option_order]
    if digits:
        options = "\n".join(f"{k} = {label}" for k, label in enumerate(listed, start=1))
        return f"{wording['digit']}\n{options}"
    options = "\n".join(listed)
    return f"{wording['phrase']}\n{options}"


def option_order_of(text: str) -> tuple[str, ...]:
    """The order in which the six labels are listed, one per line, in a template text.

    Raises :class:`TemplateError` unless each label is listed exactly once on a line of its
    own, in ascending or descending order.
    """
    lines = [line.strip().lower() for line in text.splitlines()]
    listed = [line for line in lines if line in RATING_OF_LABEL]
    if sorted(listed) != sorted(SCALE_LABELS):
        raise TemplateError(
            "a template must list each of the six answer options once on a line of its own"
        )
    order = tuple(listed)
    if order not in (SCALE_LABELS, DESCENDING):
        raise TemplateError("the answer options must be listed in ascending or descending order")
    return order


def check_template_text(text: str, style: str) -> None:
    """Raise :class:`TemplateError` when a template misses a placeholder its style needs."""
    needed = ("{title}", "{text}", "{content}") if style == TITLED else ("{text}", "{content}")
    missing = [p for p in needed if p not in text]
    if missing:
        raise TemplateError(f"{style} template misses {', '.join(missing)}")


def render(text: str, *, title: str, scenario: str, response: str) -> str:
    """Fill the three placeholders (plain replacement: item text may contain braces)."""
    # Replace in one pass so a placeholder inside the inserted text is never expanded.
    values = {"{title}": title, "{text}": scenario, "{content}": response}
    return re.sub(r"\{title\}|\{text\}|\{content\}", lambda m: values[m.group(0)], text)


def load_release_layout(directory: str | Path) -> list[TemplateSpec]:
    """Read ``DIR/<variant>/{reddit,sharegpt}_prompt.txt`` (the release's layout).

    Every variant folder must hold both files. Raises :class:`TemplateError` naming the file.
    """
    root = Path(directory)
    if not root.is_dir():
        raise TemplateError(f"{root} is not a directory")
    specs: list[TemplateSpec] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not VARIANT_NAME.match(folder.name):
            raise TemplateError(f"{folder}: variant folders are named like v1 or v1_reversed")
        for style, filename in RELEASE_FILES.items():
            path = folder / filename
            if not path.is_file():
                raise TemplateError(f"{path} is missing")
            text = path.read_text(encoding="utf-8")
            try:
                check_template_text(text, style)
                order = option_order_of(text)
            except TemplateError as exc:
                raise TemplateError(f"{path}: {exc}") from None
            if folder.name.endswith("_reversed") != (order == SCALE_LABELS):
                raise TemplateError(f"{path}: option order does not match the folder name")
            specs.append(
                TemplateSpec(variant=folder.name, style=style, text=text, option_order=order)
            )
    if not specs:
        raise TemplateError(f"{root} holds no variant folders")
    return specs
