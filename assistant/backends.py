"""Answer backends, chosen by name in one place.

Every answerer has `.answer(question, passages) -> Answer`; the LLM ones also have
`.stream(question, passages)`, yielding text pieces and then the checked Answer.

    extractive  a learned reader picks the answer span, or says the articles don't answer (the default)
    openai      any OpenAI-compatible server               pip install 'news-assistant[openai]'
    ollama      an Ollama server                           pip install 'news-assistant[ollama]'
    llamacpp    a local GGUF file through llama-cpp-python pip install 'news-assistant[llamacpp]'
    overlap     a baseline for comparisons: the retrieved sentence sharing most words with the question

A missing optional package is a BackendError naming the extra, raised here, before any question.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.api import Assistant

log = logging.getLogger(__name__)

LLM_BACKENDS = ("openai", "ollama", "llamacpp")
BACKENDS = ("extractive",) + LLM_BACKENDS + ("overlap",)


def make_answerer(name: str, assistant: "Assistant"):
    if name == "extractive":
        return _extractive(assistant)
    if name in LLM_BACKENDS:
        return _llm(name, assistant)
    if name == "overlap":
        from assistant.baseline import OverlapAnswerer

        return OverlapAnswerer()
    raise ConfigError(f"Unknown answer backend {name!r}; choose one of {', '.join(BACKENDS)}.")


def _extractive(assistant: "Assistant"):
    from assistant.reading.answerer import ReaderAnswerer
    from assistant.reading.read import SPAN_READER_FILE, SpanReader
    from assistant.retrieval import HybridRetriever

    if not SpanReader.available():
        raise ConfigError(f"The reader model {SPAN_READER_FILE} is missing: reinstall the package, or train it with "
                          "`make train-reader`.")
    lexical = assistant.lexical
    lexical.ensure(assistant.store)
    whole = HybridRetriever(assistant.store, assistant.embedder, lexical).whole_articles
    return ReaderAnswerer(SpanReader.shared(), assistant.settings.min_confidence, expand=whole)


def _llm(name: str, assistant: "Assistant"):
    from assistant.llm.answerer import LLMAnswerer
    from assistant.llm.models import SPECS, require

    require(SPECS[name])  # a missing extra fails now, not at the first question

    def embed(texts: list[str]):
        return assistant.embedder.embed(texts)

    return LLMAnswerer(name, assistant.settings, embed, fallback=lambda: _extractive(assistant))


def streams(answerer) -> bool:
    """True when the answerer can stream its text as it is written."""
    return callable(getattr(answerer, "stream", None))
