"""The project's own prompt wordings (written for this project, not taken from the release).

Three wordings × normal (``vN``: options from "very much like me" down) and reversed
(``vN_reversed``) option order × titled / chat style = 12 templates, each with a phrase form
and a digit form (for probability scoring), in English and, translated by the project, in
German and Korean (``BUILTIN_LANGUAGES``). A template's ``option_order`` is always the
scale's English labels in the order listed: the digit k means the k-th of them whatever the
language the options are shown in. The labels shown in another language are not written
here: the caller passes the language's labels from the message catalogue
(:func:`survey.scale.words_in`), the wording the participant pages show and the answer
parser reads (:func:`evaluation.parsing.parse_label`).
"""

from __future__ import annotations

from collections.abc import Sequence

from . import CHAT, DESCENDING, SCALE_LABELS, TITLED, TemplateSpec

SET_NAME = "valueportrait-own"
SET_VERSION = 1

# Per wording: the opening (per style), how the item is laid out (per style), and the
# closing instruction for phrase answers and for digit answers.
_WORDINGS = {
    "v1": {
        "intro": {
            TITLED: "Below is a post someone wrote, followed by a reply to it. Read both, then "
            "say how much the reply resembles the way you yourself think.",
            CHAT: "Below is a message someone sent, followed by a reply to it. Read both, then "
            "say how much the reply resembles the way you yourself think.",
        },
        "phrase": "Answer with exactly one of the following phrases and nothing else:",
        "digit": "Answer with the number of exactly one of the following options and nothing else:",
    },
    "v2": {
        "intro": {
            TITLED: "Imagine you came across this question and answer in an advice column or "
            "online forum. How close is the answer to your own point of view? Give your best "
            "judgement even if you are unsure.",
            CHAT: "Imagine you came across this message and the reply to it in a chat. How close "
            "is the reply to your own point of view? Give your best judgement even if you are "
            "unsure.",
        },
        "phrase": "Reply using one of these phrases, word for word, with no other text:",
        "digit": "Reply using the number of one of these options, with no other text:",
    },
    "v3": {
        "intro": {
            TITLED: "Consider the situation and the response below. To what extent does the "
            "response reflect what you value and how you would see the situation?",
            CHAT: "Consider the message and the response below. To what extent does the "
            "response reflect what you value and how you would see the matter?",
        },
        "phrase": "Your whole answer must be one of the following phrases:",
        "digit": "Your whole answer must be one of the following numbers:",
    },
}

_BODY = {
    TITLED: "Title: {title}\n\nPost: {text}\n\nReply: {content}",
    CHAT: "Message: {text}\n\nReply: {content}",
}

# The wordings in the other languages: the same three openings and closings and the item's
# layout, translated by the project (the labels come from the message catalogue).
_TRANSLATED = {
    "de": {
        "follow_up": {
            "phrase": "Deine Antwort konnte keiner der Optionen zugeordnet werden. Antworte "
            "noch einmal mit genau einer der folgenden Formulierungen und sonst nichts:",
            "digit": "Deine Antwort konnte keiner der Optionen zugeordnet werden. Antworte "
            "noch einmal mit der Nummer genau einer der folgenden Optionen und sonst nichts:",
        },
        "body": {
            TITLED: "Titel: {title}\n\nBeitrag: {text}\n\nAntwort: {content}",
            CHAT: "Nachricht: {text}\n\nAntwort: {content}",
        },
        "v1": {
            "intro": {
                TITLED: "Unten steht ein Beitrag, den jemand geschrieben hat, und eine Antwort "
                "darauf. Lies beides und sag dann, wie sehr die Antwort deiner eigenen Denkweise "
                "ähnelt.",
                CHAT: "Unten steht eine Nachricht, die jemand geschickt hat, und eine Antwort "
                "darauf. Lies beides und sag dann, wie sehr die Antwort deiner eigenen Denkweise "
                "ähnelt.",
            },
            "phrase": "Antworte mit genau einer der folgenden Formulierungen und sonst nichts:",
            "digit": "Antworte mit der Nummer genau einer der folgenden Optionen und sonst nichts:",
        },
        "v2": {
            "intro": {
                TITLED: "Stell dir vor, du stößt in einer Ratgeberkolumne oder einem Forum auf "
                "diese Frage und Antwort. Wie nah ist die Antwort an deiner eigenen Sicht? Gib "
                "deine beste Einschätzung, auch wenn du unsicher bist.",
                CHAT: "Stell dir vor, du stößt in einem Chat auf diese Nachricht und die Antwort "
                "darauf. Wie nah ist die Antwort an deiner eigenen Sicht? Gib deine beste "
                "Einschätzung, auch wenn du unsicher bist.",
            },
            "phrase": "Antworte wörtlich mit einer dieser Formulierungen, ohne weiteren Text:",
            "digit": "Antworte mit der Nummer einer dieser Optionen, ohne weiteren Text:",
        },
        "v3": {
            "intro": {
                TITLED: "Betrachte die Situation und die Antwort unten. Inwieweit spiegelt die "
                "Antwort wider, was dir wichtig ist und wie du die Situation sehen würdest?",
                CHAT: "Betrachte die Nachricht und die Antwort unten. Inwieweit spiegelt die "
                "Antwort wider, was dir wichtig ist und wie du die Sache sehen würdest?",
            },
            "phrase": "Deine ganze Antwort muss eine der folgenden Formulierungen sein:",
            "digit": "Deine ganze Antwort muss eine der folgenden Zahlen sein:",
        },
    },
    "ko": {
        "follow_up": {
            "phrase": "답을 선택지 중 하나로 읽을 수 없었습니다. 다음 표현 중 정확히 하나로만 "
            "다시 답하고 다른 말은 하지 마세요:",
            "digit": "답을 선택지 중 하나로 읽을 수 없었습니다. 다음 선택지 중 정확히 하나의 "
            "번호로만 다시 답하고 다른 말은 하지 마세요:",
        },
        "body": {
            TITLED: "제목: {title}\n\n게시글: {text}\n\n답변: {content}",
            CHAT: "메시지: {text}\n\n답변: {content}",
        },
        "v1": {
            "intro": {
                TITLED: "아래는 누군가 쓴 글과 그에 대한 답변입니다. 둘 다 읽은 뒤, 그 답변이 "
                "당신 자신의 생각과 얼마나 닮았는지 말해 주세요.",
                CHAT: "아래는 누군가 보낸 메시지와 그에 대한 답변입니다. 둘 다 읽은 뒤, 그 "
                "답변이 당신 자신의 생각과 얼마나 닮았는지 말해 주세요.",
            },
            "phrase": "다음 표현 중 정확히 하나로만 답하고 다른 말은 하지 마세요:",
            "digit": "다음 선택지 중 정확히 하나의 번호로만 답하고 다른 말은 하지 마세요:",
        },
        "v2": {
            "intro": {
                TITLED: "상담 칼럼이나 온라인 게시판에서 이 질문과 답변을 보았다고 상상해 "
                "보세요. 그 답변은 당신의 관점과 얼마나 가깝습니까? 확신이 없더라도 최선의 "
                "판단을 내려 주세요.",
                CHAT: "채팅에서 이 메시지와 그에 대한 답변을 보았다고 상상해 보세요. 그 답변은 "
                "당신의 관점과 얼마나 가깝습니까? 확신이 없더라도 최선의 판단을 내려 주세요.",
            },
            "phrase": "다음 표현 중 하나를 그대로 사용해 답하고, 다른 글은 쓰지 마세요:",
            "digit": "다음 선택지 중 하나의 번호로 답하고, 다른 글은 쓰지 마세요:",
        },
        "v3": {
            "intro": {
                TITLED: "아래의 상황과 답변을 살펴보세요. 그 답변은 당신이 중요하게 여기는 것과 "
                "당신이 그 상황을 보는 방식을 어느 정도 반영합니까?",
                CHAT: "아래의 메시지와 답변을 살펴보세요. 그 답변은 당신이 중요하게 여기는 것과 "
                "당신이 그 일을 보는 방식을 어느 정도 반영합니까?",
            },
            "phrase": "당신의 답 전체는 다음 표현 중 하나여야 합니다:",
            "digit": "당신의 답 전체는 다음 숫자 중 하나여야 합니다:",
        },
    },
}
BUILTIN_LANGUAGES: tuple[str, ...] = ("en", *_TRANSLATED)


def follow_up_wording(language: str) -> dict[str, str] | None:
    """The re-ask's instruction in ``language`` (``phrase`` and ``digit``), for the
    languages the built-in templates are written in; ``None`` (English) for any other."""
    translated = _TRANSLATED.get(language)
    return translated["follow_up"] if translated else None


def _text(
    wording: dict,
    style: str,
    order: tuple[str, ...],
    digits: bool,
    *,
    body: dict = _BODY,
    shown: dict[str, str] | None = None,
) -> str:
    """A template's text; ``shown`` maps each English label to the label shown."""
    listed = [shown[label] if shown else label for label in order]
    if digits:
        options = "\n".join(f"{k} = {label}" for k, label in enumerate(listed, start=1))
        closing = wording["digit"]
    else:
        options = "\n".join(listed)
        closing = wording["phrase"]
    return f"{wording['intro'][style]}\n\n{body[style]}\n\n{closing}\n{options}"


def builtin_templates(
    language: str = "en", *, labels: Sequence[str] | None = None
) -> list[TemplateSpec]:
    """All twelve built-in templates in ``language`` (one of ``BUILTIN_LANGUAGES``), showing
    the six ``labels`` (rating 1 first; the language's catalogue labels, required for a
    language other than English)."""
    if language == "en":
        wordings, body, shown = _WORDINGS, _BODY, None
    elif language in _TRANSLATED:
        if labels is None or len(labels) != len(SCALE_LABELS):
            raise ValueError(f"the built-in templates in {language!r} need its six labels")
        translated = _TRANSLATED[language]
        wordings = {name: translated[name] for name in _WORDINGS}
        body = translated["body"]
        shown = dict(zip(SCALE_LABELS, labels, strict=True))
    else:
        raise ValueError(f"no built-in templates in {language!r}; use one of {BUILTIN_LANGUAGES}")
    specs = []
    for name, wording in wordings.items():
        for suffix, order in (("", DESCENDING), ("_reversed", SCALE_LABELS)):
            for style in (TITLED, CHAT):
                specs.append(
                    TemplateSpec(
                        variant=name + suffix,
                        style=style,
                        text=_text(wording, style, order, False, body=body, shown=shown),
                        digit_text=_text(wording, style, order, True, body=body, shown=shown),
                        option_order=order,
                    )
                )
    return specs


BUILTIN_VARIANTS: tuple[str, ...] = tuple(
    dict.fromkeys(spec.variant for spec in builtin_templates())
)
