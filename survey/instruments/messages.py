"""The shipped questionnaire keys' names and answer labels, marked for the message
catalogues: they live in ``survey/instruments/data/*.json``, which ``makemessages`` does not
read. The questionnaire page shows them through gettext;
``tests/survey/test_message_catalogues.py`` checks this list matches the keys, so a new key
or label cannot go untranslated unnoticed.
"""

from survey.scale import gettext_noop

NAMES: tuple[str, ...] = (
    gettext_noop("Big Five Inventory, 10 items (BFI-10)"),
    gettext_noop(
        "Portrait Values Questionnaire, 21 items (PVQ-21, European Social Survey version)"
    ),
    gettext_noop("Portrait Values Questionnaire, revised (PVQ-RR)"),
)
ANSWER_LABELS: tuple[str, ...] = (
    gettext_noop("disagree strongly"),
    gettext_noop("disagree a little"),
    gettext_noop("neither agree nor disagree"),
    gettext_noop("agree a little"),
    gettext_noop("agree strongly"),
    gettext_noop("not like me at all"),
    gettext_noop("not like me"),
    gettext_noop("a little like me"),
    gettext_noop("somewhat like me"),
    gettext_noop("like me"),
    gettext_noop("very much like me"),
    gettext_noop("moderately like me"),
)
