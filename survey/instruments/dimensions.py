"""The dimension families measured by the project, named as in the Value Portrait release.

A *family* is a set of dimensions scored together (and, for values, centred together):

- ``schwartz``: the 10 basic values (release key ``correlations`` / ``pvq``),
- ``higher_order``: the 4 higher-order values (release key ``higher_pvq_correlations``),
- ``big_five``: the Big Five traits (release key ``bfi_correlations``),
- ``pvq_rr19``: the 19 refined values of the PVQ-RR.
"""

from typing import Final

SCHWARTZ: Final = "schwartz"
HIGHER_ORDER: Final = "higher_order"
BIG_FIVE: Final = "big_five"
PVQ_RR19: Final = "pvq_rr19"

SCHWARTZ_VALUES: Final[tuple[str, ...]] = (
    "Self_Direction",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power",
    "Security",
    "Conformity",
    "Tradition",
    "Benevolence",
    "Universalism",
)
HIGHER_ORDER_VALUES: Final[tuple[str, ...]] = (
    "Openness_to_Change",
    "Self_Enhancement",
    "Conservation",
    "Self_Transcendence",
)
BIG_FIVE_TRAITS: Final[tuple[str, ...]] = (
    "Extraversion",
    "Agreeableness",
    "Conscientiousness",
    "Neuroticism",
    "Openness",
)
PVQ_RR19_VALUES: Final[tuple[str, ...]] = (
    "Self_Direction_Thought",
    "Self_Direction_Action",
    "Stimulation",
    "Hedonism",
    "Achievement",
    "Power_Dominance",
    "Power_Resources",
    "Face",
    "Security_Personal",
    "Security_Societal",
    "Tradition",
    "Conformity_Rules",
    "Conformity_Interpersonal",
    "Humility",
    "Universalism_Nature",
    "Universalism_Concern",
    "Universalism_Tolerance",
    "Benevolence_Care",
    "Benevolence_Dependability",
)

FAMILIES: Final[dict[str, tuple[str, ...]]] = {
    SCHWARTZ: SCHWARTZ_VALUES,
    HIGHER_ORDER: HIGHER_ORDER_VALUES,
    BIG_FIVE: BIG_FIVE_TRAITS,
    PVQ_RR19: PVQ_RR19_VALUES,
}
FAMILY_LABELS: Final[dict[str, str]] = {
    SCHWARTZ: "Schwartz values (10)",
    HIGHER_ORDER: "Higher-order values (4)",
    BIG_FIVE: "Big Five traits",
    PVQ_RR19: "Refined values (PVQ-RR, 19)",
}
# The release's JSON keys for each family's correlations and scores.
RELEASE_CORRELATION_KEYS: Final[dict[str, str]] = {
    SCHWARTZ: "correlations",
    HIGHER_ORDER: "higher_pvq_correlations",
    BIG_FIVE: "bfi_correlations",
}
RELEASE_SCORE_KEYS: Final[dict[str, str]] = {
    SCHWARTZ: "pvq",
    HIGHER_ORDER: "higher_pvq",
    BIG_FIVE: "bfi",
}

# Schwartz's circle, in order: neighbours are adjacent, opposites are across (used to check
# whether an item's correlations follow the circular structure). SCHWARTZ_VALUES is listed in
# circle order, so the circle is that tuple.
SCHWARTZ_CIRCLE: Final[tuple[str, ...]] = SCHWARTZ_VALUES


def family_of(dimension: str) -> str:
    """Return the first family that holds ``dimension`` (ambiguous names prefer Schwartz)."""
    for family, names in FAMILIES.items():
        if dimension in names:
            return family
    raise KeyError(f"unknown dimension {dimension!r}")


def label(dimension: str) -> str:
    """Human label: ``Self_Direction`` -> ``Self-Direction``, ``Openness_to_Change`` -> ``Openness to Change``."""
    return dimension.replace("Self_", "Self-").replace("_", " ")
