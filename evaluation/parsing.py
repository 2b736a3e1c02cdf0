"""Turning a model's answer into a rating (pure: no Django imports).

Phrase answers (:func:`parse_phrase`):

1. Reasoning is removed first: ``<think>…</think>`` / ``<thinking>…</thinking>`` blocks (an
   unclosed block means the answer was cut off inside the reasoning: nothing is left).
2. **exact**: the remaining text, stripped of surrounding whitespace, is one of the six
   phrases (letter case ignored).
3. **tolerant**: the text is lower-cased, punctuation and quotes become spaces, whitespace is
   collapsed, and every phrase is looked for as whole words. Matches inside a longer match
   ("like me" inside "not like me at all") are discarded; of the rest the longest phrase
   wins. Two *different* phrases of the same greatest length ("a little like me" and
   "somewhat like me") make the answer ambiguous, i.e. invalid.
4. Otherwise the answer is **invalid** (kept with its raw text by the caller).

Digit answers (:func:`parse_digit`) and option probabilities (:func:`option_probabilities`)
serve probability scoring: the model is asked for a digit 1-6, where digit *k* means the
*k*-th option as listed in the prompt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evaluation.prompts import RATING_OF_LABEL, SCALE_LABELS

EXACT = "exact"
TOLERANT = "tolerant"
INVALID = "invalid"

_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_UNCLOSED_REASONING = re.compile(r"<(think|thinking|reasoning)>.*\Z", re.DOTALL | re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class ParsedAnswer:
    rating: int | None
    label: str
    method: str  # exact | tolerant | invalid
    answer_text: str  # the text after reasoning was removed
    reasoning: str = ""
    reason: str = ""  # why an answer is invalid

    @property
    def valid(self) -> bool:
        return self.rating is not None


def strip_reasoning(text: str) -> tuple[str, str]:
    """Return ``(answer, reasoning)``: reasoning blocks removed from ``text`` and collected."""
    reasoning = [m.group(0) for m in _REASONING_BLOCK.finditer(text)]
    answer = _REASONING_BLOCK.sub(" ", text)
    unclosed = _UNCLOSED_REASONING.search(answer)
    if unclosed:
        reasoning.append(unclosed.group(0))
        answer = answer[: unclosed.start()]
    return answer.strip(), "\n".join(reasoning)


def _normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


_NORMALISED_LABELS = {_normalise(label): label for label in SCALE_LABELS}


def parse_phrase(text: str | None) -> ParsedAnswer:
    """Parse a phrase answer by the rules in the module docstring."""
    answer, reasoning = strip_reasoning(text or "")
    if not answer:
        return ParsedAnswer(None, "", INVALID, answer, reasoning, "empty answer")
    exact = answer.strip().lower()
    if exact in RATING_OF_LABEL:
        return ParsedAnswer(RATING_OF_LABEL[exact], exact, EXACT, answer, reasoning)
    padded = f" {_normalise(answer)} "
    spans = []
    for normalised, label in _NORMALISED_LABELS.items():
        needle = f" {normalised} "
        start = padded.find(needle)
        while start != -1:
            spans.append((start, start + len(needle), label))
            start = padded.find(needle, start + 1)
    outermost = [
        s
        for s in spans
        if not any(o is not s and o[0] <= s[0] and s[1] <= o[1] and o[2] != s[2] for o in spans)
    ]
    labels = {label for _, _, label in outermost}
    if not labels:
        return ParsedAnswer(None, "", INVALID, answer, reasoning, "no answer phrase found")
    longest = max(len(label) for label in labels)
    best = sorted(label for label in labels if len(label) == longest)
    if len(best) > 1:
        return ParsedAnswer(None, "", INVALID, answer, reasoning, "ambiguous: " + " / ".join(best))
    return ParsedAnswer(RATING_OF_LABEL[best[0]], best[0], TOLERANT, answer, reasoning)


def parse_digit(text: str | None, option_order: Sequence[str]) -> ParsedAnswer:
    """Parse a digit answer: the *k*-th listed option for digit *k* (1..6).

    Exact: the answer is the digit alone; tolerant: exactly one standalone digit 1-6 in it.
    """
    answer, reasoning = strip_reasoning(text or "")
    if not answer:
        return ParsedAnswer(None, "", INVALID, answer, reasoning, "empty answer")
    stripped = answer.strip().rstrip(".")
    method = EXACT
    if not re.fullmatch(r"[1-6]", stripped):
        digits = set(re.findall(r"(?<![0-9])([1-6])(?![0-9])", answer))
        if len(digits) != 1:
            reason = "no digit 1-6 found" if not digits else "several digits"
            return ParsedAnswer(None, "", INVALID, answer, reasoning, reason)
        stripped, method = digits.pop(), TOLERANT
    label = option_order[int(stripped) - 1]
    return ParsedAnswer(RATING_OF_LABEL[label], label, method, answer, reasoning)


@dataclass(frozen=True)
class OptionProbabilities:
    """Distribution over ratings 1..6 (renormalised over the valid options)."""

    probabilities: tuple[float, ...]  # index 0 -> rating 1
    valid_mass: float  # probability that landed on a valid digit before renormalising
    expected_rating: float | None

    def as_json(self) -> dict:
        return {
            "probabilities": {str(k + 1): p for k, p in enumerate(self.probabilities)},
            "valid_mass": self.valid_mass,
            "expected_rating": self.expected_rating,
        }


def option_probabilities(
    token_logprobs: Iterable[tuple[str, float]], option_order: Sequence[str]
) -> OptionProbabilities | None:
    """The rating distribution from the first answer token's (top) log probabilities.

    Tokens that are a digit 1-6 after stripping whitespace (and SentencePiece's ``▁``/GPT's
    ``Ġ`` space markers) are summed per digit, so "3", " 3" and "▁3" all count for option 3.
    Returns ``None`` when no probability landed on a digit.
    """
    mass = [0.0] * 6
    for token, logprob in token_logprobs:
        digit = token.replace("\u2581", " ").replace("\u0120", " ").strip()
        if len(digit) == 1 and "1" <= digit <= "6" and logprob is not None:
            mass[int(digit) - 1] += math.exp(logprob)
    total = sum(mass)
    if total <= 0:
        return None
    by_rating = [0.0] * 6
    for position, probability in enumerate(mass):
        by_rating[RATING_OF_LABEL[option_order[position]] - 1] = probability / total
    expected = sum((k + 1) * p for k, p in enumerate(by_rating))
    return OptionProbabilities(tuple(by_rating), min(total, 1.0), expected)
