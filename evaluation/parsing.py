"""Turning a model's answer into a rating (pure: no Django imports).

Phrase answers (:func:`parse_phrase`) are read against a :class:`PhraseScale`: the study's
own answer labels plus the other wordings of the same options that the Value Portrait
paper's parser accepted (``like me very much``, ``little like me``, ``doesn't like me``,
``not at all like me`` ...; :data:`PAPER_VARIANTS`). Nothing else counts as an option.

1. Reasoning is removed first: ``<think>…</think>`` / ``<thinking>…</thinking>`` blocks (an
   unclosed block means the answer was cut off inside the reasoning: nothing is left).
2. An answer whose first two lines are each just a phrase of the scale is the option list
   continued (what a base model that cannot follow the instruction writes, up to where the
   token limit cuts it), not an answer: **invalid**. **exact**: the remaining text, lower-cased with its whitespace collapsed, is
   one of the scale's phrases.
3. Otherwise the text is split into words (letter case, quotes and markup ignored; ``’`` read
   as ``'``) and every phrase is looked for as whole words. An occurrence inside a longer
   one ("like me" inside "not like me at all") is not counted on its own. Then:

   - **negation**: an occurrence of a positive option ("like me", "very much like me",
     "somewhat like me", "a little like me") after a negation earlier in the same clause
     (``not``/``n't``, ``never``, ``hardly``, ``nothing``, ``no``, ``without`` …; a clause
     ends at ``. , ; : ! ? ( )``, a dash or ``but``/``however``/``although``) is never read
     as that option. A negated *bare* phrase whose negative exists on the scale is read as
     it: "not really like me", "isn't like me", "I don't think it is like me" are
     "not like me" (and "… like me at all" is "not like me at all"). Every other negated
     phrase ("I don't think this is very much like me", "hardly like me", "nothing like me")
     says which option the answer is not, never which it is: it is not counted, and an
     answer left without an option is **invalid** (asked again).
   - **other scales**: a bare phrase right after a degree word the scale does not have
     ("moderately like me" of the PVQ-RR, "quite like me", "kind of like me") is not this
     scale's label: the answer is **invalid**.
   - one option named (possibly several times): that option (**tolerant**, or
     **negation** when it came from a negated phrase).
   - **several different options** named: the longest phrase wins, as in the paper (its
     parser took the longest contained variant); two different options with phrases of the
     same greatest length are **ambiguous** (invalid). Such answers are marked
     ``several_options`` so runs can count them.
4. Otherwise the answer is **invalid** (kept with its raw text by the caller).

On every answer of the paper's released raw outputs that its parser accepted, this gives the
paper's rating except where the paper read a negated phrase as its positive
(``docs``/README: the import of raw answers lists each disagreement).

:func:`paper_rating` is the paper's own rule, kept to compare with: lower-case, collapse
whitespace, exact variant first, else every contained variant (plain substring), the
longest wins.

Digit answers (:func:`parse_digit`) and option probabilities (:func:`option_probabilities`)
serve probability scoring: the model is asked for a digit 1-6, where digit *k* means the
*k*-th option as listed in the prompt.

**Other languages.** The rules above are English (its negations, degree words and the
paper's variants). A run in another language reads its answers against that language's six
labels and number words (:class:`LabelScale`, built from :class:`survey.scale.ScaleWords`:
the message catalogue's translations, the wording the participant pages and the language's
prompt templates show) with :func:`parse_label`, which guesses nothing:

1. Reasoning is removed and an option list is invalid, as above. Text is compared
   case-folded (``ß`` as ``ss``), Unicode-normalised (NFKC), quotes and markup ignored.
2. **exact**: the whole answer is one label. Otherwise every label is looked for as whole
   words (one inside a longer label does not count on its own), and a label counts only when
   it stands alone in its clause (nothing but punctuation, a line break or the text's start
   and end on either side): "Antwort: sehr wie ich." is "sehr wie ich" (**tolerant**), but
   "nicht sehr wie ich" or "das ist wie ich" is **invalid** — without the language's
   grammar of negation, a label inside a sentence cannot be read safely.
3. Two different options named anywhere: **invalid** (ambiguous, ``several_options``). No
   label: **invalid**. A bare digit is invalid too: a phrase prompt gives digits no meaning.

:func:`parse_digit` with ``number_words`` also reads the option's number written as a word
("drei", "셋"), exactly as it reads a standalone digit; digits and words naming two different
numbers are invalid. Without ``number_words`` (English runs) it reads digits only, as before.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from evaluation.prompts import RATING_OF_LABEL, SCALE_LABELS
from survey.scale import ScaleWords

EXACT = "exact"
TOLERANT = "tolerant"
NEGATION = "negation"
INVALID = "invalid"

_REASONING_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_UNCLOSED_REASONING = re.compile(r"<(think|thinking|reasoning)>.*\Z", re.DOTALL | re.IGNORECASE)
# Words (with inner apostrophes: "doesn't") and the punctuation that ends a clause.
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.!?;:,()\[\]{}\n\u2013\u2014]|(?<!\S)--?(?!\S)")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

# The other wordings of the scale's options that the paper's parser accepted.
PAPER_VARIANTS: dict[str, tuple[str, ...]] = {
    "very much like me": ("like me very much", "likes me very much"),
    "like me": ("likes me",),
    "somewhat like me": ("some what like me", "somewhat likes me", "some what likes me"),
    "a little like me": ("little like me",),
    "not like me": ("does not like me", "doesn't like me", "is not like me"),
    "not like me at all": ("not at all like me", "does not like me at all", "isn't like me at all"),
}

# Words that negate what follows them in a clause. "not" and every "n't" contraction (also
# without the apostrophe) are the negations whose negative option the scale may have.
_NOT_WORDS = frozenset(
    "not cannot dont doesnt didnt isnt wasnt arent werent wont wouldnt cant couldnt shouldnt "
    "aint hasnt havent hadnt".split()
)
_OTHER_NEGATIONS = frozenset(
    "no never hardly barely scarcely nothing none neither nor without nowhere rarely seldom "
    "nobody".split()
)
_CLAUSE_WORDS = frozenset("but however although though whereas".split())
# Degree words that make a bare phrase into another scale's label ("moderately like me").
# "very" is not among them: the paper read "very little like me" as "a little like me".
_DEGREE_WORDS = frozenset(
    "moderately slightly mildly fairly quite rather pretty mostly largely partly partially "
    "mainly highly extremely entirely completely totally fully strongly really truly exactly "
    "just almost nearly kinda sorta so too more most less least much somewhat bit lot "
    "reasonably relatively".split()
)
_DEGREE_PAIRS = frozenset({("kind", "of"), ("sort", "of"), ("a", "bit"), ("a", "lot")})


def _is_not_word(token: str) -> bool:
    return token in _NOT_WORDS or token.endswith("n't")


def _is_boundary(token: str) -> bool:
    return not token[0].isalnum() or token in _CLAUSE_WORDS


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().translate(_APOSTROPHES))


@dataclass(frozen=True)
class PhraseScale:
    """The answer phrases of a rating scale: rating -> its label and accepted variants.

    ``labels`` lists the study's labels from rating 1 up; ``variants`` maps a label to other
    wordings of the same option. Only these phrases are ever read as an option.
    """

    labels: tuple[str, ...]
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def phrases(self) -> dict[tuple[str, ...], int]:
        """Every phrase as its words -> rating."""
        table: dict[tuple[str, ...], int] = {}
        for rating, label in enumerate(self.labels, start=1):
            for phrase in (label, *self.variants.get(label, ())):
                table[tuple(_words(phrase))] = rating
        return table

    @cached_property
    def exact(self) -> dict[str, int]:
        return {" ".join(words): rating for words, rating in self.phrases.items()}

    @cached_property
    def negative(self) -> frozenset[int]:
        """Ratings whose phrases are negations themselves ("not like me")."""
        return frozenset(
            rating
            for words, rating in self.phrases.items()
            if any(_is_not_word(w) or w in _OTHER_NEGATIONS for w in words)
        )

    @cached_property
    def heads(self) -> frozenset[tuple[str, ...]]:
        """Bare phrases that other phrases extend in front ("like me" of "somewhat like me")."""
        return frozenset(
            words
            for words in self.phrases
            if any(len(o) > len(words) and o[-len(words) :] == words for o in self.phrases)
        )

    def negated(self, words: tuple[str, ...], at_all: bool) -> int | None:
        """The scale's negative option for a negated bare phrase, if it has one."""
        forms = [("not", *words, "at", "all"), ("not", *words)] if at_all else [("not", *words)]
        for form in forms:
            if form in self.phrases:
                return self.phrases[form]
        return None


DEFAULT_SCALE = PhraseScale(labels=SCALE_LABELS, variants=PAPER_VARIANTS)


@dataclass(frozen=True)
class ParsedAnswer:
    rating: int | None
    label: str
    method: str  # exact | tolerant | negation | invalid
    answer_text: str  # the text after reasoning was removed
    reasoning: str = ""
    reason: str = ""  # why an answer is invalid
    several_options: bool = False  # it named two or more different options

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


@dataclass(frozen=True)
class _Occurrence:
    start: int
    end: int
    words: tuple[str, ...]
    rating: int


def _occurrences(tokens: list[str], phrases: Mapping[tuple[str, ...], int]) -> list[_Occurrence]:
    """Every phrase (words -> rating) found as whole words, without those inside a longer one."""
    found = []
    for words, rating in phrases.items():
        size = len(words)
        for start in range(len(tokens) - size + 1):
            if tuple(tokens[start : start + size]) == words:
                found.append(_Occurrence(start, start + size, words, rating))
    return [
        o
        for o in found
        if not any(
            p is not o and p.start <= o.start and o.end <= p.end and p.end - p.start > len(o.words)
            for p in found
        )
    ]


def _negation_before(tokens: list[str], start: int) -> str | None:
    """The negation word earlier in the clause that ends at ``start``, if any."""
    for position in range(start - 1, -1, -1):
        token = tokens[position]
        if _is_boundary(token):
            return None
        if _is_not_word(token) or token in _OTHER_NEGATIONS:
            return token
        if position >= 1 and (tokens[position - 1], token) == ("far", "from"):
            return "far from"
    return None


def _degree_before(tokens: list[str], start: int) -> str | None:
    if start >= 1 and tokens[start - 1] in _DEGREE_WORDS:
        return tokens[start - 1]
    if start >= 2 and (tokens[start - 2], tokens[start - 1]) in _DEGREE_PAIRS:
        return f"{tokens[start - 2]} {tokens[start - 1]}"
    return None


def _invalid(answer: str, reasoning: str, reason: str, several: bool = False) -> ParsedAnswer:
    return ParsedAnswer(None, "", INVALID, answer, reasoning, reason, several)


def parse_phrase(text: str | None, scale: PhraseScale = DEFAULT_SCALE) -> ParsedAnswer:
    """Parse a phrase answer by the rules in the module docstring."""
    answer, reasoning = strip_reasoning(text or "")
    if not answer:
        return _invalid(answer, reasoning, "empty answer")
    lines = [" ".join(_words(line)) for line in answer.splitlines() if _words(line)]
    if len(lines) >= 2 and all(line in scale.exact for line in lines[:2]):
        # "not like me at all\nnot like me at all": a base model continuing the prompt's list.
        return _invalid(answer, reasoning, "a list of options, not an answer")
    collapsed = " ".join(answer.lower().translate(_APOSTROPHES).split())
    if collapsed in scale.exact:
        rating = scale.exact[collapsed]
        return ParsedAnswer(rating, scale.labels[rating - 1], EXACT, answer, reasoning)
    tokens = _words(answer)
    readings: list[tuple[int, int, str]] = []  # (rating, phrase length, method)
    rejected: list[str] = []
    for occurrence in _occurrences(tokens, scale.phrases):
        phrase = " ".join(occurrence.words)
        if occurrence.rating in scale.negative:
            readings.append((occurrence.rating, len(phrase), TOLERANT))
            continue
        negation = _negation_before(tokens, occurrence.start)
        if negation is not None:
            at_all = tokens[occurrence.end : occurrence.end + 2] == ["at", "all"]
            mapped = (
                scale.negated(occurrence.words, at_all)
                if negation not in _OTHER_NEGATIONS and negation != "far from"
                else None
            )
            if mapped is None:  # says which option it is not, not which it is
                rejected.append(f"negated phrase: {negation} … {phrase}")
            else:
                readings.append((mapped, len(phrase), NEGATION))
            continue
        degree = _degree_before(tokens, occurrence.start)
        if degree is not None and occurrence.words in scale.heads:
            return _invalid(answer, reasoning, f"not an answer of this scale: {degree} {phrase}")
        readings.append((occurrence.rating, len(phrase), TOLERANT))
    if not readings:
        return _invalid(answer, reasoning, rejected[0] if rejected else "no answer phrase found")
    several = len({rating for rating, _, _ in readings}) > 1
    longest = max(length for _, length, _ in readings)
    best = {(rating, method) for rating, length, method in readings if length == longest}
    if len({rating for rating, _ in best}) > 1:
        named = " / ".join(scale.labels[r - 1] for r in sorted({r for r, _ in best}))
        return _invalid(answer, reasoning, f"ambiguous: {named}", several=True)
    rating, method = min(best, key=lambda pair: pair[1] != NEGATION)
    return ParsedAnswer(
        rating, scale.labels[rating - 1], method, answer, reasoning, several_options=several
    )


def paper_rating(text: str | None, scale: PhraseScale = DEFAULT_SCALE) -> int | None:
    """The paper's parser (``response_parser.py`` of the release), for comparison.

    Lower-cased, whitespace collapsed; an exact variant first, else every variant contained
    as a plain substring, the longest wins. Equally long variants of two options never met
    on the release; here the higher rating wins (the paper listed its variants from 6 down).
    """
    collapsed = " ".join((text or "").lower().split())
    if collapsed in scale.exact:
        return scale.exact[collapsed]
    contained = [(len(p), r) for p, r in scale.exact.items() if p in collapsed]
    return max(contained)[1] if contained else None


def parse_digit(
    text: str | None, option_order: Sequence[str], number_words: Sequence[str] = ()
) -> ParsedAnswer:
    """Parse a digit answer: the *k*-th listed option for digit *k* (1..6).

    Exact: the answer is the digit alone; tolerant: exactly one standalone digit 1-6 in it.
    ``number_words`` (the words for 1..6 in the run's language) are read as their digits:
    exact when the answer is the word alone; tolerant when the answer names exactly one
    number, by digit or word; invalid when it names none or two different ones.
    """
    answer, reasoning = strip_reasoning(text or "")
    if not answer:
        return _invalid(answer, reasoning, "empty answer")
    stripped = answer.strip().rstrip(".")
    method = EXACT
    if not re.fullmatch(r"[1-6]", stripped):
        digits = set(re.findall(r"(?<![0-9])([1-6])(?![0-9])", answer))
        if number_words:
            tokens = _unicode_words(answer)
            named = {
                str(number)
                for number, word in enumerate(number_words, start=1)
                if _contains(tokens, tuple(_unicode_words(word)))
            }
            if len(named) == 1 and not digits and _is_only(tokens, named, number_words):
                stripped = named.pop()
                label = option_order[int(stripped) - 1]
                return ParsedAnswer(RATING_OF_LABEL[label], label, EXACT, answer, reasoning)
            digits |= named
        if len(digits) != 1:
            return _invalid(
                answer, reasoning, "no digit 1-6 found" if not digits else "several digits"
            )
        stripped, method = digits.pop(), TOLERANT
    label = option_order[int(stripped) - 1]
    return ParsedAnswer(RATING_OF_LABEL[label], label, method, answer, reasoning)


# --- other languages ------------------------------------------------------------------------
# Words in any script (with inner apostrophes), and the punctuation that ends a clause in the
# scripts of the shipped languages (Latin, Hangul, Arabic; CJK's full stop and comma).
_UNICODE_TOKEN = re.compile(
    r"[^\W_]+(?:'[^\W_]+)*|[.!?;:,()\[\]{}\n\u2013\u2014\u3001\u3002\u060c\u061b\u061f]"
    r"|(?<!\S)--?(?!\S)"
)


def _unicode_words(text: str) -> list[str]:
    """``text`` as case-folded words and clause punctuation (quotes, markup dropped)."""
    normal = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    return _UNICODE_TOKEN.findall(normal)


def _contains(tokens: list[str], words: tuple[str, ...]) -> bool:
    size = len(words)
    return bool(size) and any(
        tuple(tokens[i : i + size]) == words for i in range(len(tokens) - size + 1)
    )


def _is_only(tokens: list[str], named: set[str], number_words: Sequence[str]) -> bool:
    """Whether the answer's words are just the one number word named (punctuation aside)."""
    (number,) = named
    words = [t for t in tokens if t[0].isalnum()]
    return words == _unicode_words(number_words[int(number) - 1])


@dataclass(frozen=True)
class LabelScale:
    """The six labels (rating 1 first) and number words of a scale in one language, read by
    :func:`parse_label` and :func:`parse_digit` (see the module docstring)."""

    language: str
    labels: tuple[str, ...]
    number_words: tuple[str, ...] = ()

    @classmethod
    def of(cls, words: ScaleWords) -> LabelScale:
        return cls(words.language, tuple(words.labels), tuple(words.number_words))

    @cached_property
    def phrases(self) -> dict[tuple[str, ...], int]:
        """Every label as its words -> rating."""
        return {
            tuple(_unicode_words(label)): rating
            for rating, label in enumerate(self.labels, start=1)
        }


def _alone_in_clause(tokens: list[str], occurrence: _Occurrence) -> bool:
    before = tokens[occurrence.start - 1] if occurrence.start > 0 else "."
    after = tokens[occurrence.end] if occurrence.end < len(tokens) else "."
    return not before[0].isalnum() and not after[0].isalnum()


def parse_label(text: str | None, scale: LabelScale) -> ParsedAnswer:
    """Parse a phrase answer in ``scale``'s language by the rules in the module docstring.

    A valid answer's ``label`` is the scale's English label of its rating, as digit answers
    record it, so a run's labels mean the same options in every language."""
    answer, reasoning = strip_reasoning(text or "")
    if not answer:
        return _invalid(answer, reasoning, "empty answer")
    phrases = scale.phrases
    lines = [
        tuple(w for w in _unicode_words(line) if w[0].isalnum()) for line in answer.splitlines()
    ]
    lines = [line for line in lines if line]
    if len(lines) >= 2 and all(line in phrases for line in lines[:2]):
        return _invalid(answer, reasoning, "a list of options, not an answer")
    tokens = _unicode_words(answer)
    if " ".join(unicodedata.normalize("NFKC", answer).casefold().split()) in {
        " ".join(words) for words in phrases
    }:
        rating = phrases[tuple(_unicode_words(answer))]
        return ParsedAnswer(rating, SCALE_LABELS[rating - 1], EXACT, answer, reasoning)
    occurrences = _occurrences(tokens, phrases)
    named = sorted({o.rating for o in occurrences})
    if len(named) > 1:
        options = " / ".join(scale.labels[r - 1] for r in named)
        return _invalid(answer, reasoning, f"ambiguous: {options}", several=True)
    if not occurrences:
        return _invalid(answer, reasoning, "no answer label found")
    inside = [o for o in occurrences if not _alone_in_clause(tokens, o)]
    if inside:  # a label inside a sentence may be negated or qualified: never read
        return _invalid(
            answer, reasoning, f"a label inside a sentence: {' '.join(inside[0].words)}"
        )
    (rating,) = named
    return ParsedAnswer(rating, SCALE_LABELS[rating - 1], TOLERANT, answer, reasoning)


# Below this share of the first token's probability on the six digits, the distribution says
# more about what the model was not going to answer than about its rating.
DEFAULT_MIN_VALID_PROBABILITY = 0.5


@dataclass(frozen=True)
class OptionProbabilities:
    """Distribution over ratings 1..6 (renormalised over the valid options).

    ``expected_rating`` is ``None`` (with ``reason``) when ``valid_mass`` is below the floor
    the distribution was computed with.
    """

    probabilities: tuple[float, ...]  # index 0 -> rating 1
    valid_mass: float  # probability that landed on a valid digit before renormalising
    expected_rating: float | None
    reason: str = ""

    def as_json(self) -> dict:
        return {
            "probabilities": {str(k + 1): p for k, p in enumerate(self.probabilities)},
            "valid_mass": self.valid_mass,
            "expected_rating": self.expected_rating,
            "reason": self.reason,
        }


def option_probabilities(
    token_logprobs: Iterable[tuple[str, float]],
    option_order: Sequence[str],
    *,
    min_valid_probability: float = DEFAULT_MIN_VALID_PROBABILITY,
) -> OptionProbabilities | None:
    """The rating distribution from the first answer token's (top) log probabilities.

    Tokens that are a digit 1-6 after stripping whitespace (and SentencePiece's ``▁``/GPT's
    ``Ġ`` space markers) are summed per digit, so "3", " 3" and "▁3" all count for option 3.
    Returns ``None`` when no probability landed on a digit. Below ``min_valid_probability``
    of the mass on the digits the expected rating is not given (``reason`` says why).
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
    valid_mass = min(total, 1.0)
    if valid_mass < min_valid_probability:
        reason = (
            f"valid probability mass {valid_mass:.3g} below the floor {min_valid_probability:g}"
        )
        return OptionProbabilities(tuple(by_rating), valid_mass, None, reason)
    expected = sum((k + 1) * p for k, p in enumerate(by_rating))
    return OptionProbabilities(tuple(by_rating), valid_mass, expected)


def valid_mass_distribution(masses: Sequence[float], floor: float, bins: int = 10) -> dict:
    """How much of the first token's probability landed on the digits, over a run's answers:
    counts per tenth (the last bin includes 1), how many fell below ``floor``, the median."""
    values = sorted(m for m in masses if m is not None and not math.isnan(m))
    counts = [0] * bins
    for value in values:
        counts[min(int(value * bins), bins - 1)] += 1
    middle = len(values) // 2
    median = (
        None
        if not values
        else values[middle]
        if len(values) % 2
        else (values[middle - 1] + values[middle]) / 2
    )
    return {
        "answers": len(values),
        "floor": floor,
        "below_floor": sum(value < floor for value in values),
        "median": median,
        "bins": [
            {"from": k / bins, "to": (k + 1) / bins, "count": count}
            for k, count in enumerate(counts)
        ],
    }
