"""Follow-up questions: rewrite "How long did his trip last?" into a question that stands on its own.

No LLM: a heuristic. A follow-up that leans on the previous turn (a personal pronoun with no
name before it, or a reference like "it", "that", "the trip" or a bare "Why?" in a question
that names nothing) gets the previous question's names and content words appended, so
retrieval and the extractive answerer see them:

    >>> condense("How long did his trip last?", ["When did Lavrov visit Pakistan?"])
    'How long did his trip last? (Lavrov visit Pakistan)'
    >>> condense("Who won the 2021 Pakistani general election?", ["When did Lavrov visit Pakistan?"])
    'Who won the 2021 Pakistani general election?'

`Conversation` keeps one chat's turns (one per browser session in the UI) and asks through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from assistant.core.answer import Answer
from assistant.text.question import MAX_QUESTION_CHARS, check_question
from assistant.text.terms import STOP_WORDS

if TYPE_CHECKING:
    from assistant.api import Assistant

MAX_CONTEXT_WORDS = 8
MAX_TURNS = 50

# Pronouns that always point back at someone named earlier.
PERSONAL = frozenset("he him his himself she her hers herself they them their theirs themselves".split())
# Words that point back only when the question names nothing itself ("When was it signed?", "Who won the vote?");
# a question with no names and at most one content word ("Why?", "And when?") leans on the last turn too.
REFERRING = frozenset("it its itself this that these those there then the same such former latter".split())
# Words of the question form, not its topic: never carried over to the next question.
_FORM_WORDS = frozenset(
    """what which who whom whose when where why how much many long often far did does do was were is are
    has have had will would can could should may might happen happened name kind type""".split()
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-\.]*[A-Za-z0-9]|[A-Za-z0-9]")


def _words(text: str) -> list[str]:
    return [re.sub(r"['’]s$", "", w) for w in _WORD.findall(text)]


def _is_topic(lowered: str) -> bool:
    """Not a stop word, a question-form word or a pointing word."""
    return not (lowered in STOP_WORDS or lowered in _FORM_WORDS or lowered in PERSONAL or lowered in REFERRING)


def needs_context(question: str) -> bool:
    """True when `question` leans on an earlier turn for who or what it is about.

    A personal pronoun does, unless a name comes before it in the same question ("Did Imran Khan
    say his government…"); "it", "that", "the …" or a bare "Why?" do when the question names nothing.
    """
    words = _words(question)
    lowered = [w.lower() for w in words]
    pronoun_at = next((i for i, w in enumerate(lowered) if w in PERSONAL), None)
    if pronoun_at is not None:
        return not own_names(" ".join(words[:pronoun_at]))
    if own_names(question):
        return False
    return bool(REFERRING.intersection(lowered)) or len(topic_words(question)) <= 1


def own_names(question: str) -> list[str]:
    """Names and numbers in `question`: capitalised words (the first too) that are not question or stop words."""
    return [w for w in _words(question) if _is_topic(w.lower()) and (w[0].isupper() or w[0].isdigit())]


def topic_words(question: str) -> list[str]:
    """The names and content words of `question`, in order, original case, without question-form words."""
    seen: set[str] = set()
    topic = []
    for word in _words(question):
        lowered = word.lower()
        if not _is_topic(lowered) or lowered in seen:
            continue
        seen.add(lowered)
        topic.append(word)
    return topic


def condense(question: str, history: Sequence[str]) -> str:
    """A stand-alone version of `question`, given the earlier stand-alone questions (oldest first).

    Unchanged when there is no history or the question stands on its own; otherwise the last
    question's topic words that the follow-up does not already say are appended in brackets.
    """
    question = " ".join(question.split())
    if not history or not needs_context(question):
        return question
    own = {w.lower() for w in _words(question)}
    previous = history[-1]
    replaced = _replaced_names(previous, question)
    carried = [w for w in topic_words(previous) if w.lower() not in own and w.lower() not in replaced][
        :MAX_CONTEXT_WORDS
    ]
    if not carried:
        return question
    return f"{question} ({' '.join(carried)})"


def name_phrases(text: str) -> list[list[str]]:
    """Runs of capitalised words ("Roger Federer", "Australian Open"), the question's first word left out."""
    phrases: list[list[str]] = []
    current: list[str] = []
    for index, word in enumerate(_words(text)):
        if index > 0 and word[0].isupper() and _is_topic(word.lower()):
            current.append(word)
            continue
        if current:
            phrases.append(current)
        current = []
    if current:
        phrases.append(current)
    return phrases


def _replaced_names(previous: str, question: str) -> set[str]:
    """Words of the earlier question's names that a name of the follow-up replaces: "US Open" shares "Open" with
    "Australian Open", so the follow-up is about the US Open and "Australian" is not carried over."""
    new = [{w.lower() for w in phrase} for phrase in name_phrases(question)]
    dropped: set[str] = set()
    for phrase in name_phrases(previous):
        words = {w.lower() for w in phrase}
        if any(words & other and words != other for other in new):
            dropped |= words
    return dropped


@dataclass
class Turn:
    """One question and its answer; `standalone` is what was actually asked of the collection."""

    question: str
    standalone: str
    answer: Answer

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "standalone": self.standalone, "answer": self.answer.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Turn":
        return cls(data["question"], data.get("standalone") or data["question"], Answer.from_dict(data["answer"]))


@dataclass
class Conversation:
    """The turns of one chat. Keep one per user or browser session, never one shared by everybody."""

    turns: list[Turn] = field(default_factory=list)
    max_turns: int = MAX_TURNS

    def standalone(self, question: str) -> str:
        """`question` rewritten with the context of the previous turn when it needs it."""
        return condense(question, [t.standalone for t in self.turns])

    def ask(self, assistant: "Assistant", question: str, **options: Any) -> Turn:
        """Ask `question` in the context of this conversation; the turn is recorded and returned.

        Raises InputError for an empty or over-long question (before anything is asked).
        """
        question = check_question(question)
        standalone = self._asked(question)
        return self._record(Turn(question, standalone, assistant.ask(standalone, **options)))

    def ask_stream(self, assistant: "Assistant", question: str, **options: Any) -> Iterator[str | Turn]:
        """Like `ask`, streamed: the answer's text pieces as the backend writes them, then the recorded Turn (last).

        Raises InputError for an empty or over-long question (before anything is asked)."""
        question = check_question(question)
        standalone = self._asked(question)
        for event in assistant.ask_stream(standalone, **options):
            if isinstance(event, Answer):
                yield self._record(Turn(question, standalone, event))
                return
            yield event

    def _asked(self, question: str) -> str:
        """What is asked of the collection: the question with the context it needs, if that still fits."""
        standalone = self.standalone(question)
        return question if len(standalone) > MAX_QUESTION_CHARS else standalone

    def _record(self, turn: Turn) -> Turn:
        self.turns = (self.turns + [turn])[-self.max_turns:]
        return turn

    def clear(self) -> None:
        self.turns = []
