"""End-to-end in other languages, with axe-core on every participant page.

- a Prolific participant takes a study in German (chosen with ``?lang=de`` on an English
  study offering German and Korean) on a desktop with the keyboard, from consent to the
  completion code and the Prolific return link: every page has ``lang="de"`` and shows none
  of the English messages; the keys 1-6 can be turned off;
- a participant takes a study in Arabic, the right-to-left test locale, on a phone with taps:
  ``dir="rtl"``, the page mirrored, no Latin letter on any page but the codes, and the sixth
  answer of the first item visible without scrolling;
- in both languages a participant who declines (ended page) and one who fails the attention
  checks (screened-out page) see their pages in the language too;
- axe-core (npm, node_modules/axe-core, injected from the file: never a CDN) finds no
  violation of WCAG 2.1 level A or AA on any of these pages.
"""

from __future__ import annotations

import gettext
import re

import pytest

from survey.instruments.wording import Wording
from survey.models import Participant, Study
from survey.services.instruments import ensure_instrument, store_wording
from tests.conftest import PROJECT_DIR, REQUIRE_SERVICES
from tests.factories import ItemFactory, ScenarioFactory, SourceFactory, StudyFactory

from .conftest import save_screenshot
from .participant import BrowserParticipant
from .test_survey_browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOCALE_DIR = PROJECT_DIR / "locale"


@pytest.fixture(scope="module", autouse=True)
def axe_core():
    if not AXE.is_file():
        message = "needs axe-core in node_modules/: run `make js-deps` (npm ci)"
        pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)


def axe_violations(page) -> list[str]:
    """WCAG 2.1 A/AA violations axe-core finds on the page as shown."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_A_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_axe_finds_violations(new_context):
    """The accessibility check can fail: a page without a language, an image without a text
    alternative and an unlabelled field are reported."""
    page = new_context(**DESKTOP).new_page()
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    found = {violation.split(" ")[0] for violation in axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label"} <= found


def english_messages(language: str) -> list[str]:
    """The English text of every catalogue message that ``language`` words differently (the
    literal parts of a message with placeholders; markup left out)."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog
    phrases = set()
    for key, translated in catalogue.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or translated == msgid:
            continue
        for part in re.split(r"%\(\w+\)s|\{\w+\}|<[^>]+>", msgid):
            part = part.strip(" .:;,“”")
            if len(part) >= 2 and re.search(r"[A-Za-z]{2}", part):
                phrases.add(part)
    return sorted(phrases)


def text_outside_lists(page) -> str:
    """The page's visible text without the options of its drop-down lists: the country and
    language names come from pycountry's ISO catalogues, whose coverage we do not control
    (its Arabic list of languages leaves about half in English)."""
    return page.evaluate(
        """() => {
            const lists = [...document.querySelectorAll("select")];
            lists.forEach(s => { s.dataset.display = s.style.display; s.style.display = "none"; });
            const text = document.body.innerText;
            lists.forEach(s => { s.style.display = s.dataset.display; });
            return text;
        }"""
    )


def english_left(page, phrases: list[str]) -> list[str]:
    text = text_outside_lists(page)
    return [p for p in phrases if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", text)]


def latin_left(page, allowed: list[str]) -> list[str]:
    """Latin words on the page besides the codes and names in ``allowed``."""
    text = text_outside_lists(page)
    for token in allowed:
        text = text.replace(token, " ")
    text = re.sub(r"P-[0-9A-F]{10}", " ", text)  # the participant code
    return re.findall(r"[A-Za-z]+", text)


def check_page(page, *, language: str, direction: str, untranslated) -> None:
    """The page speaks ``language`` (``untranslated(page)`` finds nothing) in ``direction``
    and axe-core finds no WCAG 2.1 A/AA violation."""
    kind = page.locator("[data-page]").first.get_attribute("data-page")
    assert page.evaluate("document.documentElement.lang") == language, kind
    assert page.evaluate("document.documentElement.dir") == direction, kind
    assert page.evaluate("getComputedStyle(document.body).direction") == direction, kind
    assert untranslated(page) == [], kind
    assert axe_violations(page) == [], kind


def answers_on_first_screen(page) -> None:
    """On an item page as it opens, the sixth answer is on the first screen (however long
    the scenario), and in a right-to-left page the response's bar is on the right."""
    assert page.evaluate("window.scrollY") == 0
    sixth = page.locator('button.scale-option[data-key="6"]').bounding_box()
    assert 0 <= sixth["y"] and sixth["y"] + sixth["height"] <= page.viewport_size["height"]
    if page.locator(".response").count():
        border = page.evaluate(
            "(() => { const s = getComputedStyle(document.querySelector('.response'));"
            " return [s.borderRightWidth, s.borderLeftWidth]; })()"
        )
        assert border == ["4px", "0px"]


def walk(bot: BrowserParticipant, check, until: str, on_item=None) -> list[str]:
    """Answer pages until ``until`` (``check`` on the first page of each kind, ``on_item`` on
    every item page); the kinds seen in order."""
    seen = []
    for _ in range(200):
        kind = bot.kind
        if kind not in seen:
            check(bot.page)
            seen.append(kind)
        if kind == "item" and on_item is not None:
            on_item(bot.page)
        if kind == until:
            return seen
        bot.step()
    raise AssertionError(f"never reached {until}")


def items_in(language: str, scenarios: list[tuple[str, str]]) -> list:
    """One item per (scenario, response) pair, written in ``language``."""
    source = SourceFactory(slug=f"e2e-{language}", name=f"Items in {language}")
    return [
        ItemFactory(
            scenario=ScenarioFactory(source=source, language=language, title="", text=scenario),
            option_id=1,
            text=response,
        )
        for scenario, response in scenarios
    ]


def open_study(items, instruments, **fields) -> Study:
    study = StudyFactory(
        items=items,
        items_per_participant=len(items),
        target_ratings_per_item=5,
        attention_check_count=2,
        attention_failures_to_screen_out=2,
        allow_placeholder_wording=True,
        uses_prolific=True,
        demographic_fields=["age", "gender", "country", "education", "first_language"],
        completion_code="CODE-DONE",
        no_consent_code="CODE-NO",
        screened_out_code="CODE-OUT",
        **fields,
    )
    study.instruments.set(instruments)
    return study


GERMAN_ITEMS = [
    (
        "Mein Nachbar bittet mich jede Woche, seinen Hund auszuführen.",
        "Ich helfe gern, wenn ich Zeit habe.",
    ),
    (
        "Eine Kollegin hat meinen Fehler vor dem Chef zugegeben.",
        "Ich würde mich bedanken und es wiedergutmachen.",
    ),
    (
        "Mein Freund möchte, dass ich seinen Umzug allein plane.",
        "Ich würde ihm sagen, dass wir das gemeinsam tun.",
    ),
    ("Im Zug telefoniert jemand sehr laut.", "Ich würde freundlich um Ruhe bitten."),
]
ARABIC_ITEMS = [
    (
        # Long enough that the page must scroll: the answers still show on the first screen.
        " ".join(
            [
                "طلب مني جاري أن أعتني بقطته طوال الصيف لأنه مسافر إلى الخارج، "
                "ولكنني أعمل لساعات طويلة ولا أعرف إن كنت أستطيع ذلك."
            ]
            * 6
        ),
        "سأخبره بصراحة بما أستطيع فعله وما لا أستطيع.",
    ),
    ("اعترفت زميلتي بخطئي أمام المدير.", "سأشكرها وأصلح الخطأ بنفسي."),
    ("يريد صديقي أن أخطط لانتقاله وحدي.", "سأقول له إننا سنفعل ذلك معًا."),
    ("يتحدث شخص بصوت عالٍ في القطار.", "سأطلب منه بلطف أن يخفض صوته."),
]
ARABIC_BFI10 = {
    n: f"أرى نفسي شخصًا {text} (نص تجريبي {n})."
    for n, text in enumerate(
        [
            "متحفظًا",
            "يثق بالآخرين",
            "كسولًا",
            "هادئًا",
            "قليل الاهتمام بالفن",
            "اجتماعيًا",
            "يميل إلى انتقاد الآخرين",
            "يؤدي عمله بإتقان",
            "يتوتر بسهولة",
            "واسع الخيال",
        ],
        start=1,
    )
}


def test_a_study_in_german_from_consent_to_the_completion_code(
    live_server, new_context, prolific_visits
):
    study = open_study(
        items_in("de", GERMAN_ITEMS),
        [ensure_instrument("bfi10", code) for code in ("en", "de", "ko")],
        title="Values study",
        language="en",
        languages=["de", "ko"],
        consent_text="Taking part is voluntary.",
        translations={
            "de": {
                "title": "Werte-Studie",
                "consent_text": "Die Teilnahme ist freiwillig. Sie können jederzeit aufhören.",
            }
        },
    )
    phrases = english_messages("de")
    assert "I agree to take part" in phrases and "very much like me" in phrases

    def check(page):
        check_page(
            page, language="de", direction="ltr", untranslated=lambda p: english_left(p, phrases)
        )

    entry = f"{live_server.url}/s/{study.slug}/?STUDY_ID=S&SESSION_ID=A&lang=de&PROLIFIC_PID="
    page = new_context(**DESKTOP).new_page()
    page.goto(entry + "DE1")
    assert "Ich stimme der Teilnahme zu" in page.inner_text("#agree")
    save_screenshot(page, "consent-desktop-de")
    bot = BrowserParticipant(page, mode="keyboard")
    bot.consent()
    bot.demographics()
    # the keys 1-6 can be turned off (WCAG 2.1.4) and on again
    position = page.locator("[data-page=item]").get_attribute("data-position")
    page.uncheck("#keyboard-shortcuts")
    page.keyboard.press("3")
    page.wait_for_timeout(400)
    assert page.locator("[data-page=item]").get_attribute("data-position") == position
    page.reload()
    assert not page.is_checked("#keyboard-shortcuts")  # remembered
    page.check("#keyboard-shortcuts")
    seen = walk(bot, check, until="done")
    assert seen == ["item", "questionnaire", "done"]
    assert page.inner_text("#completion-code") == "CODE-DONE"
    page.wait_for_timeout(1800)  # no automatic redirect (WCAG 2.2.1)
    assert prolific_visits == []
    page.click("#completion-link")
    page.wait_for_url(
        re.compile(r"^https://app\.prolific\.com/submissions/complete\?cc=CODE-DONE$")
    )

    # the consent and demographics pages, ended (declined) and screened out, in German too
    declining = BrowserParticipant(new_context(**DESKTOP).new_page(), mode="click")
    declining.page.goto(entry + "DE2")
    assert walk(declining, check, until="consent") == ["consent"]
    with declining.page.expect_navigation():
        declining.page.click("#decline")
    check(declining.page)
    assert "Sie haben sich gegen eine Teilnahme entschieden" in declining.page.inner_text("body")
    failing = BrowserParticipant(new_context(**DESKTOP).new_page(), mode="click", fail_checks=True)
    failing.page.goto(entry + "DE3")
    failing.consent()
    # the lists name countries and languages in German (pycountry's catalogues)
    assert failing.page.inner_text("#id_country option[value='Germany']") == "Deutschland"
    assert failing.page.inner_text("#id_first_language option[value='Korean']") == "Koreanisch"
    assert walk(failing, check, until="screened-out") == ["demographics", "item", "screened-out"]

    # the checks can fail: the same consent page in English shows English messages
    english = new_context(**DESKTOP).new_page()
    english.goto(entry.replace("lang=de", "lang=en") + "EN1")
    assert "I agree to take part" in english_left(english, phrases)

    done = Participant.objects.get(study=study, external_id="DE1")
    assert done.status == Participant.Status.COMPLETED and done.language == "de"
    assert done.ratings.count() == 4 and done.instrument_responses.count() == 10
    assert all(i.language == "de" for i in done.instruments())
    assert set(
        Participant.objects.filter(study=study).values_list("external_id", "language", "status")
    ) == {
        ("DE1", "de", "completed"),
        ("DE2", "de", "no_consent"),
        ("DE3", "de", "screened_out"),
    }


def test_a_study_in_the_right_to_left_test_locale_on_a_phone(
    live_server, new_context, prolific_visits
):
    arabic_bfi10 = store_wording(
        wording=Wording(
            instrument="bfi10",
            language="ar",
            version="e2e",
            placeholder=False,
            instructions="إلى أي حد توافق على كل عبارة من العبارات التالية؟",
            forms={"neutral": ARABIC_BFI10},
        )
    )
    study = open_study(
        items_in("ar", ARABIC_ITEMS),
        [arabic_bfi10],
        title="دراسة القيم",
        language="ar",
        consent_text="المشاركة طوعية، ويمكنك التوقف في أي وقت.",
    )
    allowed = ["CODE-DONE", "CODE-OUT", "CODE-NO", "Prolific", "BFI-10"]

    def check(page):
        check_page(
            page, language="ar", direction="rtl", untranslated=lambda p: latin_left(p, allowed)
        )

    item_pages = []

    def on_item(page):
        answers_on_first_screen(page)
        item_pages.append(page.locator("[data-page=item]").get_attribute("data-position"))

    entry = f"{live_server.url}/s/{study.slug}/?STUDY_ID=S&SESSION_ID=A&PROLIFIC_PID="
    page = new_context(**PHONE).new_page()
    page.goto(entry + "AR1")
    bot = BrowserParticipant(page, mode="tap")
    assert walk(bot, check, until="item") == ["consent", "demographics", "item"]
    assert "دراسة القيم" in page.inner_text(".survey-title")
    save_screenshot(page, "item-phone-ar")
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert walk(bot, check, until="done", on_item=on_item)[-2:] == ["questionnaire", "done"]
    assert len(set(item_pages)) == 6  # every item and check, the long scenario among them
    assert page.inner_text("#completion-code") == "CODE-DONE"
    page.click("#completion-link")
    page.wait_for_url(
        re.compile(r"^https://app\.prolific\.com/submissions/complete\?cc=CODE-DONE$")
    )

    declining = BrowserParticipant(new_context(**PHONE).new_page(), mode="tap")
    declining.page.goto(entry + "AR2")
    with declining.page.expect_navigation():
        declining.page.locator("#decline").tap()
    check(declining.page)
    failing = BrowserParticipant(new_context(**PHONE).new_page(), mode="tap", fail_checks=True)
    failing.page.goto(entry + "AR3")
    failing.consent()
    assert failing.page.inner_text("#id_country option[value='Germany']") == "ألمانيا"
    assert walk(failing, check, until="screened-out")[-1] == "screened-out"

    done = Participant.objects.get(study=study, external_id="AR1")
    assert done.status == Participant.Status.COMPLETED and done.language == "ar"
    assert done.ratings.count() == 4 and done.instrument_responses.count() == 10
