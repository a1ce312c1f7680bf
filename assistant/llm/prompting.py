"""The messages sent to the model: system prompt, then the numbered passages fenced as data and the question.

Context packing: passages are taken in retrieval order while the prompt, counted in cl100k
tokens (assistant.text.tokens), fits the model's window minus the answer budget, with a margin for
the model's own tokenizer counting more than cl100k does. The chosen passages are shown in
article order (the same set of passages then gives the same prompt prefix, which a server
can cache) and numbered from 1.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import prompts
from assistant.core.answer import Passage
from assistant.core.errors import ConfigError
from assistant.llm.text import clean_passage
from assistant.text.tokens import count_tokens

log = logging.getLogger(__name__)

REFUSAL = "NO_ANSWER"  # what the system prompt tells the model to write when the passages don't answer
MESSAGE_OVERHEAD = 8  # chat-template tokens around each message


@dataclass
class Prompt:
    """What is sent: (role, content) messages, the passages they number (passage n is passages[n-1]), and the cost."""

    messages: list[tuple[str, str]]
    passages: list[Passage]
    tokens: int  # cl100k tokens of all messages
    left_out: int = 0  # retrieved passages that did not fit
    redacted: int = 0  # instruction-like sentences removed from the passages
    budget: int = 0  # cl100k tokens the prompt was allowed
    fence: str = ""
    texts: list[str] = field(default_factory=list)  # the cleaned passage texts as the model saw them


@contextmanager
def prompt_errors() -> Iterator[None]:
    """prompts/ imports nothing of the project: its PromptError (a missing or malformed prompt file, or variables that
    do not match) becomes the ConfigError the command line and the page show as a user error."""
    try:
        yield
    except prompts.PromptError as exc:
        raise ConfigError(str(exc)) from exc


class PromptBuilder:
    """Renders the prompt files with passages packed into the token budget."""

    @prompt_errors()
    def __init__(self, context_tokens: int, answer_tokens: int, margin: float = 0.2, prompts_dir: str | None = None,
                 count: Callable[[str], int] | None = None) -> None:
        self.count = count or count_tokens
        self.context_tokens = context_tokens
        self.answer_tokens = answer_tokens
        self.margin = margin
        self.system = prompts.load("system", prompts_dir)
        self.answer = prompts.load("answer", prompts_dir)
        self.passage = prompts.load("passage", prompts_dir)

    @property
    def budget(self) -> int:
        """cl100k tokens the messages may take: the window minus the answer, shrunk by the tokenizer margin."""
        return int((self.context_tokens - self.answer_tokens) / (1.0 + self.margin)) - 2 * MESSAGE_OVERHEAD

    @prompt_errors()
    def build(self, question: str, passages: list[Passage]) -> Prompt:
        system = self.system.render(refusal=REFUSAL).strip()
        cleaned = []
        redacted = 0
        for passage in passages:
            text, removed = clean_passage(passage.text)
            redacted += removed
            cleaned.append(text)
        fence = _fence(cleaned)
        fixed = self.count(system) + self.count(self._user(question, fence, ""))
        if fixed > self.budget:
            raise ConfigError(
                f"The LLM's window (llm_context_tokens={self.context_tokens}, llm_answer_tokens={self.answer_tokens}) "
                f"leaves {self.budget} tokens for the prompt, but the prompt without passages takes {fixed}; "
                "raise llm_context_tokens or lower llm_answer_tokens."
            )
        chosen = self._pack(passages, cleaned, fixed)
        if passages and not chosen:
            raise ConfigError(
                f"The LLM's window (llm_context_tokens={self.context_tokens}, llm_answer_tokens={self.answer_tokens}) "
                f"leaves {self.budget - fixed} tokens for passages, too few for any retrieved passage; raise "
                f"llm_context_tokens."
            )
        ordered = _article_order(passages, chosen)
        blocks = [self._block(number, passages[i], cleaned[i]) for number, i in enumerate(ordered, start=1)]
        user = self._user(question, fence, "\n".join(blocks))
        tokens = self.count(system) + self.count(user)
        while tokens > self.budget and ordered:  # separators and numbering may tip it over: drop the lowest-ranked
            chosen.remove(max(ordered))
            ordered = _article_order(passages, chosen)
            blocks = [self._block(number, passages[i], cleaned[i]) for number, i in enumerate(ordered, start=1)]
            user = self._user(question, fence, "\n".join(blocks))
            tokens = self.count(system) + self.count(user)
        if len(ordered) < len(passages):
            log.info("context packing: %d of %d passages fit %d tokens", len(ordered), len(passages), self.budget)
        if redacted:
            log.warning(
                "%d instruction-like sentence(s) in the retrieved passages were withheld from the model", redacted
            )
        return Prompt(
            messages=[("system", system), ("user", user)],
            passages=[passages[i] for i in ordered],
            tokens=tokens,
            left_out=len(passages) - len(ordered),
            redacted=redacted,
            budget=self.budget,
            fence=fence,
            texts=[cleaned[i] for i in ordered],
        )

    def _pack(self, passages: list[Passage], cleaned: list[str], fixed: int) -> list[int]:
        used = fixed
        chosen: list[int] = []
        for i, passage in enumerate(passages):
            cost = self.count(self._block(len(chosen) + 1, passage, cleaned[i])) + 1
            if used + cost <= self.budget:
                chosen.append(i)
                used += cost
        return chosen

    def _block(self, number: int, passage: Passage, text: str) -> str:
        values = {
            "number": number,
            "text": text,
            "title": " ".join((passage.title or "").split()),
            "date": passage.date or "undated",
            "source": passage.source,
        }
        return self.passage.fill(values, allow_unused=True).strip()

    def _user(self, question: str, fence: str, passages: str) -> str:
        return self.answer.render(question=" ".join(question.split()), fence=fence, passages=passages).strip()


def _fence(texts: list[str]) -> str:
    """A fence line no passage contains: derived from the passages (same passages, same prompt, cacheable)."""
    digest = hashlib.sha256("\x00".join(sorted(texts)).encode("utf-8")).hexdigest()
    for start in range(0, 56, 8):
        fence = f"=====ARTICLES-{digest[start:start + 8]}====="
        if not any(fence in t for t in texts):
            return fence
    raise ConfigError("could not fence the passages")  # unreachable in practice


def _article_order(passages: list[Passage], chosen: list[int]) -> list[int]:
    """Chosen passage indexes grouped by article (best-ranked article first), each article's passages in text order."""
    article_rank = {a: r for r, a in enumerate(dict.fromkeys(passages[i].article_id for i in chosen))}
    return sorted(chosen, key=lambda i: (article_rank[passages[i].article_id], passages[i].start))
