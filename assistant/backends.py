"""Answer backends, chosen by name in one place.

Every answerer has `.answer(question, passages) -> Answer`; the LLM ones also have
`.stream(question, passages)`, yielding text pieces and then the checked Answer.

    extractive  picks the answering sentence(s) with the learned sentence ranker, no LLM (the default)
    reader      the span reader (assistant/reading/): a learned model picks the answer span and decides refusals;
                it becomes the default once it beats `extractive` on the held-out sets (README, "Measuring quality")
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
BACKENDS = ("extractive", "reader") + LLM_BACKENDS + ("overlap",)
SENTENCE_RANKER_THRESHOLD = 0.3  # the sentence ranker's refusal threshold when min_confidence is unset


def make_answerer(name: str, assistant: "Assistant"):
    if name == "extractive":
        return _extractive(assistant)
    if name == "reader":
        return _span_reader(assistant)
    if name in LLM_BACKENDS:
        return _llm(name, assistant)
    if name == "overlap":
        from assistant.baseline import OverlapAnswerer

        return OverlapAnswerer()
    raise ConfigError(f"Unknown answer backend {name!r}; choose one of {', '.join(BACKENDS)}.")


def _extractive(assistant: "Assistant"):
    from assistant.extractive import ExtractiveAnswerer
    from assistant.retrieval import HybridRetriever

    lexical = assistant.lexical
    lexical.ensure(assistant.store)
    whole = HybridRetriever(assistant.store, assistant.embedder, lexical).whole_articles
    threshold = assistant.settings.min_confidence
    return ExtractiveAnswerer(assistant.embedder.embed, lexical.idf, SENTENCE_RANKER_THRESHOLD if threshold is None
                              else threshold, expand=whole, read=_sentence_reader())


def _span_reader(assistant: "Assistant"):
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


def _sentence_reader():
    """The fine-tuned sentence reader's embed function; None (with a warning) when its model file is missing."""
    from assistant.reader import READER_FILE, Reader

    if not Reader.available():
        log.warning("reader model %s is missing: answers fall back to the base model's similarity (less accurate); "
                    "reinstall the package or run `make train-answerer`", READER_FILE)
        return None
    return Reader.shared().embed


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
