"""The LLM answerer: passages packed into a prompt, a LangChain chat model writes, every citation is checked.

    answerer.answer(question, passages) -> Answer
    answerer.stream(question, passages) -> yields str pieces as the model writes them, then the checked Answer
    answerer.on_error(question, passages, error) -> the extractive answer standing in after a server error

The pieces are the model's raw text, shown while it is written; the final Answer is what
counts: only sentences supported by the passages they cite (others removed or marked, by
setting), or the extractive answer (or a refusal) when none is supported. A server that fails raises BackendError;
the answer chain (assistant/chain.py) then falls back to `on_error` when the setting llm_error_fallback is on.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Iterator

from langchain_core.messages import HumanMessage, SystemMessage

import prompts
from assistant.core.answer import Answer, Passage
from assistant.core.errors import BackendError
from assistant.core.settings import Settings
from assistant.llm.checking import CheckedAnswer, CitationChecker
from assistant.llm.models import backend_error, chat_model, endpoint
from assistant.llm.prompting import REFUSAL, Prompt, PromptBuilder, prompt_errors
from assistant.llm.text import looks_like_instruction
from assistant.reading.analyse import analyse_question

log = logging.getLogger(__name__)

_MESSAGES = {"system": SystemMessage, "user": HumanMessage}


class LLMAnswerer:
    """One backend's answerer; the chat model is built on first use (naming the model may ask the server)."""

    def __init__(self, name: str, settings: Settings, embed: Callable, fallback: Callable[[], object],
                 model_factory: Callable[[], object] | None = None) -> None:
        self.name = name
        self.settings = settings
        self.where = endpoint(name, settings)
        self.prompt = PromptBuilder(
            settings.llm_context_tokens, settings.llm_answer_tokens, settings.llm_token_margin, settings.llm_prompts_dir
        )
        self.checker = CitationChecker(
            embed,
            settings.llm_min_support,
            mark_unsupported=settings.llm_unsupported == "mark",
            attribute_uncited=settings.llm_attribute,
            refusal=REFUSAL,
        )
        self._fallback_factory = fallback
        self._fallback: object | None = None  # made by _fallback_factory on first use
        self._model_factory = model_factory or (lambda: chat_model(name, settings))
        self._model = None
        self._lock = threading.Lock()

    # ---- the model --------------------------------------------------------------------------------

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._call(self._model_factory)
            return self._model

    def _call(self, function: Callable, *args):
        try:
            return function(*args)
        except Exception as exc:
            error = backend_error(exc, self.name, self.where)
            if error is None:
                raise
            raise error from None

    @staticmethod
    def messages(prompt: Prompt) -> list:
        return [_MESSAGES[role](content=content) for role, content in prompt.messages]

    # ---- answering --------------------------------------------------------------------------------

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        """The checked answer to `question` from `passages` (retrieved for it)."""
        if not passages:
            return self._refusal(question, reason="")
        prompt = self.prompt.build(question, passages)
        message = self._call(lambda: self.model.invoke(self.messages(prompt)))
        return self._finish(question, passages, prompt, message.text)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """Yield the model's text as it is written, then the checked Answer (always last)."""
        if not passages:
            yield self._refusal(question, reason="")
            return
        prompt = self.prompt.build(question, passages)
        pieces: list[str] = []
        chunks = self._call(lambda: self.model.stream(self.messages(prompt)))
        while True:
            chunk = self._call(next, chunks, None)
            if chunk is None:
                break
            if chunk.text:
                pieces.append(chunk.text)
                yield chunk.text
        yield self._finish(question, passages, prompt, "".join(pieces))

    def check(self, raw: str, prompt: Prompt) -> CheckedAnswer:
        return self.checker.check(raw, prompt.passages)

    # ---- after generation -------------------------------------------------------------------------

    def _finish(self, question: str, passages: list[Passage], prompt: Prompt, raw: str) -> Answer:
        checked = self.check(raw, prompt)
        kind = _kind(question)
        dropped = [s for s in checked.sentences if not s.supported]
        log.info(
            "%s answer: %d sentence(s), %d supported, %d unsupported; %d prompt tokens",
            self.name,
            len(checked.sentences),
            len(checked.supported),
            len(dropped),
            prompt.tokens,
        )
        if checked.refused:
            answer = Answer.refusal(question, kind, backend=self.name)
            answer.context_tokens = prompt.tokens
            return answer
        if not checked.supported:
            return self._no_support(question, passages, prompt, checked, kind)
        return Answer(
            question=question,
            text=checked.text,
            citations=checked.citations,
            confidence=checked.confidence,
            kind=kind,
            backend=self.name,
            unsupported=checked.unsupported,
            context_tokens=prompt.tokens,
        )

    def _no_support(
        self, question: str, passages: list[Passage], prompt: Prompt, checked: CheckedAnswer, kind: str
    ) -> Answer:
        """No sentence of the model's answer stands: the extractive answer, or a refusal, by setting."""
        if self.settings.llm_no_support == "extractive":
            answer = self._guarded(question, self.fallback.answer(question, passages))
            answer.backend = f"extractive (fallback: the {self.name} answer had no supported sentence)"
        else:
            answer = Answer.refusal(question, kind, backend=self.name,
                                    reason="The model's answer was not supported by the passages it cited.")
        answer.unsupported = checked.unsupported
        answer.context_tokens = prompt.tokens
        return answer

    def on_error(self, question: str, passages: list[Passage], error: BackendError) -> Answer:
        """The extractive answer in place of the model's, after `error` (the chain calls it: llm_error_fallback)."""
        log.warning("%s; answering with the extractive answerer (llm_error_fallback)", error)
        answer = self._guarded(question, self.fallback.answer(question, passages))
        answer.backend = f"extractive (fallback: the {self.name} server failed)"
        return answer

    def _guarded(self, question: str, answer: Answer) -> Answer:
        """The fallback answer, unless it would repeat article text that addresses instructions to an AI."""
        if answer.refused or not looks_like_instruction(f"{answer.text} {answer.short_answer or ''}"):
            return answer
        log.warning(
            "the extractive answer to %r quotes instruction-like article text; refusing instead", question[:200]
        )
        return Answer.refusal(
            question,
            answer.kind,
            backend="extractive",
            reason="The passage that matches it addresses instructions to AI assistants, so it is not repeated.",
        )

    def _refusal(self, question: str, reason: str) -> Answer:
        return Answer.refusal(question, _kind(question), backend=self.name, reason=reason)

    @property
    def fallback(self):
        if self._fallback is None:
            self._fallback = self._fallback_factory()
        return self._fallback

    # ---- follow-up questions ----------------------------------------------------------------------

    def condense(self, question: str, history: list[str]) -> str:
        """A stand-alone version of a follow-up `question` given earlier questions (oldest first), written by the
        model."""
        if not history:
            return question
        with prompt_errors():
            template = prompts.load("condense", self.settings.llm_prompts_dir)
            text = template.render(question=" ".join(question.split()),
                                   history="\n".join(f"- {h}" for h in history[-3:]))
        message = self._call(lambda: self.model.invoke([HumanMessage(content=text)]))
        rewritten = " ".join((message.text or "").strip().splitlines()[0:1]).strip(" \"'“”") if message.text else ""
        return rewritten if 3 <= len(rewritten) <= 500 else question


def _kind(question: str) -> str:
    return analyse_question(question).kind
