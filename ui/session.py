"""What one browser tab's chat holds between events (one ChatSession per tab, in a gr.State; never shared).

The conversation itself (follow-up context) is assistant.conversation.Conversation; this adds what the page
shows: the chat messages, the answer behind each message (so an earlier answer's sources can be shown again and
rated), the questions waiting while another is answered, and where the chat is saved (assistant.history).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.conversation import Conversation, Turn
from ui import render

SHOWN_QUESTION_CHARS = 500  # an over-long message is echoed cut to this length


def message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def shown_question(question: str) -> str:
    if len(question) > SHOWN_QUESTION_CHARS:
        return question[:SHOWN_QUESTION_CHARS] + "…"
    return question


@dataclass
class Shown:
    """An answer in the chat: its turn, the filters it was asked with, and its row in the history (once saved)."""

    turn: Turn
    options: dict[str, str] = field(default_factory=dict)
    turn_id: int | None = None
    collection: str | None = None  # the collection it was asked of (saved with the turn)


@dataclass
class Waiting:
    """A question typed while another was being answered, with the filters set when it was typed."""

    question: str
    options: dict[str, str] = field(default_factory=dict)
    collection: str | None = None  # the collection picked when it was typed (None: the page's own)


@dataclass
class Chat:
    """One conversation as shown: its messages, the answer at each message index, where it is saved."""

    conversation: Conversation = field(default_factory=Conversation)
    messages: list[dict[str, str]] = field(default_factory=list)
    answers: dict[int, Shown] = field(default_factory=dict)
    stored_id: str | None = None
    title: str = ""

    def answer_at(self, index: Any) -> tuple[int, Shown] | None:
        """The answer at message `index`, or the one answering the question there; None for anything else."""
        if isinstance(index, (list, tuple)):
            index = index[0] if index else None
        if not isinstance(index, int):
            return None
        for at in (index, index + 1):
            if at in self.answers:
                return at, self.answers[at]
        return None

    def last_answer(self) -> tuple[int, Shown] | None:
        return max(self.answers.items()) if self.answers else None


@dataclass
class ChatSession:
    chat: Chat = field(default_factory=Chat)
    waiting: list[Waiting] = field(default_factory=list)
    live: list[dict[str, str]] = field(default_factory=list)  # the question being answered and its answer so far
    owner: str | None = None  # the browser's id in the history (kept in the browser's storage)
    rating: int | None = None  # the message index of the answer the feedback box is about
    collection: str | None = None  # the collection this tab's questions and uploads go to (None: the page's own)
    pending: tuple[str, str, str | None] | None = None  # a rename or delete of a collection waiting for "Yes"

    def view(self) -> list[dict[str, str]]:
        """The chat as shown: the conversation, the answer being written, then the questions waiting."""
        return (self.chat.messages + self.live
                + [message("user", render.waiting_html(shown_question(w.question))) for w in self.waiting])

    def new_chat(self, chat: Chat | None = None) -> None:
        self.chat = chat or Chat()
        self.waiting = []
        self.live = []
        self.rating = None
