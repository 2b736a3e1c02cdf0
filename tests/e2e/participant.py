"""A participant in a real browser: reads each page and answers it with keys or taps/clicks."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field


@dataclass
class BrowserParticipant:
    page: object  # playwright Page
    mode: str = "keyboard"  # "keyboard" or "click"
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    answers: list[tuple] = field(default_factory=list)
    fail_checks: bool = False  # answer attention checks with another value than instructed

    @property
    def kind(self) -> str:
        return self.page.locator("[data-page]").first.get_attribute("data-page") or ""

    def press_or_click(self, locator) -> None:
        with self.page.expect_navigation():
            if self.mode == "tap":
                locator.tap()
            else:
                locator.click()

    def consent(self) -> None:
        self.press_or_click(self.page.locator("#agree"))

    def demographics(self) -> None:
        page = self.page
        page.fill("#id_age", "29")
        self.tap_or_click(page.locator("input[name=gender][value=male]"))
        page.select_option("#id_country", "Germany")
        if page.locator("#id_education").count():
            page.select_option("#id_education", "graduate")
        page.select_option("#id_first_language", "German")
        self.press_or_click(page.locator("#continue"))

    def tap_or_click(self, locator) -> None:
        if self.mode == "tap":
            locator.tap()
        else:
            locator.click()

    def item(self) -> int:
        page = self.page
        position = int(page.locator("[data-page=item]").get_attribute("data-position"))
        attention = page.locator(".attention-text")
        if attention.count():
            value = self.instructed_value(attention.inner_text())
            if self.fail_checks:
                value = value % 6 + 1
            self.answers.append(("check", position, value))
        else:
            value = self.rng.randint(1, 6)
            self.answers.append(("item", position, value))
        if self.mode == "keyboard":
            with page.expect_navigation():
                page.keyboard.press(str(value))
        else:
            self.press_or_click(page.locator(f'button.scale-option[data-key="{value}"]'))
        return position

    def instructed_value(self, instruction: str) -> int:
        """The answer an attention check asks for: the scale button whose label the
        instruction quotes (in whatever language the page is in)."""
        labels = self.page.locator("button.scale-option .label").all_inner_texts()
        quoted = [
            label
            for label in labels
            if re.search(
                f'[\u201c\u201e"\u300c\u00ab]{re.escape(label)}[\u201d\u201c"\u300d\u00bb]',
                instruction,
            )
        ]
        assert len(quoted) == 1, (instruction, labels)
        return labels.index(quoted[0]) + 1

    def questionnaire(self) -> None:
        page = self.page
        code = page.locator("[data-page=questionnaire]").get_attribute("data-instrument")
        questions = page.locator("fieldset.question")
        for i in range(questions.count()):
            question = questions.nth(i)
            options = question.locator(".likert-option")
            choice = self.rng.randrange(options.count())
            self.tap_or_click(options.nth(choice))
            self.answers.append(("q", code, int(question.get_attribute("data-number")), choice + 1))
        self.press_or_click(page.locator("#continue"))

    def step(self) -> str:
        kind = self.kind
        if kind == "consent":
            self.consent()
        elif kind == "demographics":
            self.demographics()
        elif kind == "item":
            self.item()
        elif kind == "questionnaire":
            self.questionnaire()
        return kind

    def run_until(self, stop: str, max_steps: int = 400) -> None:
        for _ in range(max_steps):
            if self.kind == stop:
                return
            self.step()
        raise AssertionError(f"never reached {stop}")
