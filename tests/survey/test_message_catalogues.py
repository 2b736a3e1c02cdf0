"""The participant pages are translatable and every shipped catalogue is complete.

- every catalogue in locale/ has no untranslated and no fuzzy entry, and holds exactly the
  messages the code marks today (``makemessages`` run on a copy of the project finds nothing
  new and nothing gone);
- no participant template shows text outside ``{% translate %}``/``{% blocktranslate %}``;
- no participant-facing Python module shows a sentence that is not wrapped in gettext;
- the questionnaire keys' names and labels (JSON data) are all marked for the catalogues.
"""

from __future__ import annotations

import ast
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

from survey.instruments import messages
from survey.instruments.keys import INSTRUMENT_CODES, load_key
from tests.conftest import PROJECT_DIR

LOCALE_DIR = PROJECT_DIR / "locale"
CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))
MSGFMT = shutil.which("msgfmt")
needs_gettext = pytest.mark.skipif(
    MSGFMT is None and os.environ.get("VP_REQUIRE_SERVICES") != "1",
    reason="needs GNU gettext (msgfmt); `make test` installs it",
)

# The templates participants see (the staff's pages are English only).
PARTICIPANT_TEMPLATES = [
    PROJECT_DIR / "templates" / "base.html",
    *sorted((PROJECT_DIR / "templates" / "survey").glob("*.html")),
]
# The modules whose strings reach participants (messages of refusals, form labels, endings).
PARTICIPANT_MODULES = [
    PROJECT_DIR / "survey" / name
    for name in (
        "views.py",
        "item_views.py",
        "http.py",
        "steps.py",
        "forms.py",
        "tokens.py",
        "models/studies.py",
        "selectors/item_page.py",
        "selectors/progress.py",
        "services/answers.py",
        "services/enrolment.py",
        "services/ending.py",
        "services/responses.py",
    )
]
# Proper names shown as they are in every language.
PROPER_NAMES = ("Value Portrait",)
# Attributes whose values people read (or hear from a screen reader).
READ_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-confirm", "aria-description")
GETTEXT_CALLS = {
    "gettext",
    "gettext_lazy",
    "gettext_noop",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "_",
}


def msgfmt_statistics(po: Path) -> str:
    result = subprocess.run(
        [MSGFMT or "msgfmt", "--check", "--statistics", "-o", os.devnull, str(po)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_every_offered_language_ships_a_catalogue():
    shipped = {po.parts[-3] for po in CATALOGUES}
    assert {code for code, _ in settings.LANGUAGES} <= shipped
    assert {"en", "de", "ko", "ar"} <= shipped


@needs_gettext
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda po: po.parts[-3])
def test_catalogue_has_no_untranslated_or_fuzzy_entry(po):
    stats = msgfmt_statistics(po)
    assert re.fullmatch(r"\d+ translated messages?\.", stats), f"{po}: {stats}"
    assert "#, fuzzy" not in po.read_text(encoding="utf-8"), f"{po} has a fuzzy entry"


@needs_gettext
@pytest.mark.slow
def test_catalogues_hold_exactly_the_messages_the_code_marks(tmp_path):
    """``makemessages`` on a copy of the project: a newly marked string shows up as
    untranslated, a changed one as fuzzy, a removed one as an entry fewer."""
    copy = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        copy,
        ignore=shutil.ignore_patterns(
            ".venv",
            "node_modules",
            ".git",
            "tests",
            "perf",
            "docs",
            "var",
            "build",
            "dist",
            "staticfiles",
            "*.mo",
            "__pycache__",
            "*.sqlite3",
            "*.egg-info",
        ),
    )
    codes = [po.parts[-3] for po in CATALOGUES]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "PYTHONPATH": str(copy)}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--no-obsolete", "-v0"]
        + [arg for code in codes for arg in ("-l", code)],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for po in CATALOGUES:
        regenerated = copy / po.relative_to(PROJECT_DIR)
        assert msgfmt_statistics(regenerated) == msgfmt_statistics(po), (
            f"{po} is out of date: run makemessages and translate the new entries"
        )
        assert "#, fuzzy" not in regenerated.read_text(encoding="utf-8"), f"{po}: changed text"


def visible_text(markup: str) -> list[str]:
    """Human-readable text in template markup (``§`` marks what the template fills in): each
    run of text between tags and the values of attributes people read, when it has letters."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    pattern = rf'(?:{"|".join(READ_ATTRIBUTES)})="([^"]*)"'
    chunks = [m.group(1) for m in re.finditer(pattern, markup)]
    chunks += re.split(r"<[^>]*>", markup)
    found = []
    for chunk in chunks:
        text = html.unescape(chunk).replace("§", " ")
        for name in PROPER_NAMES:
            text = text.replace(name, " ")
        if re.search(r"[^\W\d_]", text):
            found.append(" ".join(text.split()))
    return found


def untranslated_template_text(source: str) -> list[str]:
    """Text of a template outside the translation tags. The template is rebuilt with every
    translation tag (and what ``blocktranslate`` holds), variable and comment replaced by a
    letterless mark, then read as markup: what still has letters is shown untranslated."""
    rebuilt, depth = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name, *args = token.contents.split() or [""]
            # {% block body_class %}…{% endblock %} holds CSS class names, not text.
            if name in ("blocktranslate", "blocktrans") or (
                name == "block" and args[0].endswith("_class")
            ):
                depth += 1
            elif name in ("endblocktranslate", "endblocktrans") or (name == "endblock" and depth):
                depth -= 1
            elif name in ("translate", "trans") and depth == 0:
                rebuilt.append("§")
        elif token.token_type == TokenType.VAR and depth == 0:
            rebuilt.append("§")
        elif token.token_type == TokenType.TEXT and depth == 0:
            rebuilt.append(token.contents)
    return visible_text("".join(rebuilt))


@pytest.mark.parametrize("template", PARTICIPANT_TEMPLATES, ids=lambda p: p.name)
def test_participant_templates_show_no_text_outside_translation_tags(template):
    assert untranslated_template_text(template.read_text(encoding="utf-8")) == []


def test_the_template_scan_finds_untranslated_text():
    found = untranslated_template_text(
        '{% load i18n %}<p title="Read me">{% translate "Fine" %} Stray words</p>'
        "{% blocktranslate %}Also fine{% endblocktranslate %}{# a comment #}&ndash; 1"
    )
    assert found == ["Read me", "Stray words"]


def sentence_like(text: str) -> bool:
    """Reads as a message to a person: a capital letter, several words, a full stop."""
    return bool(re.match(r"^[A-Z][a-z]+\b.*\s.*[.?!:]$", text.strip(), re.S))


def untranslated_python_strings(source: str) -> list[str]:
    """Sentence-like string literals that no gettext call wraps, other than docstrings,
    help texts and programmers' errors (``ValueError``, ``AssertionError`` …)."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in GETTEXT_CALLS or name.endswith(
                ("ValueError", "AssertionError", "TypeError")
            ):
                skip.update(id(n) for n in ast.walk(node))
            for keyword in node.keywords:
                if keyword.arg in ("help_text", "verbose_name", "description"):
                    skip.update(id(n) for n in ast.walk(keyword.value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if sentence_like(node.value):
                found.append(node.value)
        elif isinstance(node, ast.JoinedStr) and id(node) not in skip:
            literal = "".join(
                v.value
                for v in node.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if sentence_like(literal + "."):
                found.append(literal)
    return found


@pytest.mark.parametrize("module", PARTICIPANT_MODULES, ids=lambda p: p.name)
def test_participant_modules_show_no_untranslated_sentence(module):
    assert untranslated_python_strings(module.read_text(encoding="utf-8")) == []


def test_the_python_scan_finds_untranslated_sentences():
    source = (
        "def view():\n"
        '    """Docstrings are for programmers."""\n'
        '    raise BadAnswer("Please choose an answer.")\n'
        "def other():\n"
        '    gettext("Translated text.")\n'
        '    raise ValueError("A programming error.")\n'
        '    raise NotInStudy(f"Question {n} is not part of the study.")\n'
    )
    assert untranslated_python_strings(source) == [
        "Please choose an answer.",
        "Question  is not part of the study.",
    ]


def test_every_questionnaire_name_and_answer_label_is_marked_for_translation():
    keys = [load_key(code) for code in INSTRUMENT_CODES]
    assert {key.name for key in keys} == set(messages.NAMES)
    assert {label for key in keys for label in key.response_labels} == set(messages.ANSWER_LABELS)
