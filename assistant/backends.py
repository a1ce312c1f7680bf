"""Answer backends: the `Answerer` protocol and the registry that finds them by name.

A backend is a factory `factory(assistant) -> Answerer`, registered under a name in the entry-point group
`news_assistant.backends`. The built-in ones are registered that way in pyproject.toml, and a separate package adds
one by declaring its own entry point (tests/plugins/echo_backend is an example):

    [project.entry-points."news_assistant.backends"]
    echo = "news_assistant_echo:make_answerer"

Built-in backends:

    verified    the default: the sentence ranker's answer, given only when the span reader also finds an answer in
                the same passages (assistant/reading/verify.py), unless the ranker is near certain
    extractive  picks the answering sentence(s) with the learned sentence ranker, no LLM
    reader      the span reader (assistant/reading/): a learned model picks the answer span and decides refusals
    openai      any OpenAI-compatible server               pip install 'news-assistant[openai]'
    ollama      an Ollama server                           pip install 'news-assistant[ollama]'
    llamacpp    a local GGUF file through llama-cpp-python pip install 'news-assistant[llamacpp]'
    overlap     a baseline for comparisons: the retrieved sentence sharing most words with the question

A missing optional package is a BackendError naming the extra, raised when the backend is made, before any question.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Callable, Iterator, Protocol, runtime_checkable

from assistant.core.answer import Answer, Passage
from assistant.core.errors import BackendError, ConfigError
from assistant.retrieval.hybrid import HybridRetriever

if TYPE_CHECKING:
    from assistant.api import Assistant

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "news_assistant.backends"
# The built-in backends in the order they are listed (the first is the default). pyproject.toml registers the same
# factories under ENTRY_POINT_GROUP; this table also serves a checkout run without being pip-installed.
BUILTIN_BACKENDS = {
    "verified": "assistant.backends:verified",
    "extractive": "assistant.backends:extractive",
    "reader": "assistant.backends:span_reader",
    "openai": "assistant.backends:openai",
    "ollama": "assistant.backends:ollama",
    "llamacpp": "assistant.backends:llamacpp",
    "overlap": "assistant.backends:overlap",
}
SENTENCE_RANKER_THRESHOLD = 0.3  # the sentence ranker's refusal threshold when min_confidence is unset


@runtime_checkable
class Answerer(Protocol):
    """What every backend gives: an answer from the passages retrieved for the question.

    `answer` returns the Answer (a refusal when the passages don't say). `stream` yields text pieces as they are
    written and then the Answer, always last; a backend that does not write as it goes yields the Answer alone.
    """

    def answer(self, question: str, passages: list[Passage]) -> Answer: ...

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]: ...


BackendFactory = Callable[["Assistant"], Answerer]


def registered() -> dict[str, EntryPoint]:
    """Every backend by name: the built-ins first (in their order), then those other packages register, by name.

    A package cannot take a built-in name: its entry point is ignored with a warning."""
    found = {name: EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in BUILTIN_BACKENDS.items()}
    others = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in BUILTIN_BACKENDS:
            others[entry.name] = entry
        elif entry.value == BUILTIN_BACKENDS[entry.name]:
            found[entry.name] = entry  # the installed registration of a built-in
        else:
            log.warning("ignoring the answer backend %r registered by %s as %s: the name is a built-in backend's",
                        entry.name, _package(entry), entry.value)
    return found | dict(sorted(others.items()))


def backend_names() -> list[str]:
    """The names `backend` (setting, --backend) accepts: built-ins first, the default first of all."""
    return list(registered())


def make_answerer(name: str, assistant: "Assistant") -> Answerer:
    """The answerer of backend `name` for `assistant`; an unknown name is a ConfigError listing the known ones."""
    entries = registered()
    entry = entries.get(name)
    if entry is None:
        raise ConfigError(f"Unknown answer backend {name!r}; choose one of {', '.join(entries)}.")
    try:
        factory: BackendFactory = entry.load()
    except (ImportError, AttributeError) as exc:
        raise BackendError(f"The answer backend {name!r} ({entry.value}, registered by {_package(entry)}) cannot be "
                           f"loaded: {exc}. Reinstall {_package(entry)}.") from None
    answerer = factory(assistant)
    if not isinstance(answerer, Answerer):
        raise BackendError(f"The answer backend {name!r} ({entry.value}, registered by {_package(entry)}) gave "
                           f"{type(answerer).__name__}, which lacks answer() or stream().")
    return answerer


def _package(entry: EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    return f"the package {dist.name!r}" if dist is not None else "news-assistant (built in)"


# ---- the built-in factories (registered in pyproject.toml) ----------------------------------------------------
# Each imports its answerer when it is called, as an entry point is loaded only when named: a process loads the
# backend it uses (the LLM ones bring langchain and their extras), and `import assistant` stays light.


def extractive(assistant: "Assistant") -> Answerer:
    from assistant.ranker.extractive import ExtractiveAnswerer

    lexical = assistant.lexical
    lexical.ensure(assistant.store)
    whole = HybridRetriever(assistant.store, assistant.embedder, lexical).whole_articles
    threshold = assistant.settings.min_confidence
    return ExtractiveAnswerer(assistant.embedder.embed, lexical.idf, SENTENCE_RANKER_THRESHOLD if threshold is None
                              else threshold, expand=whole, read=_sentence_reader())


def span_reader(assistant: "Assistant") -> Answerer:
    return _span_reader(assistant, assistant.settings.min_confidence)


def _span_reader(assistant: "Assistant", min_confidence: float | None) -> Answerer:
    from assistant.reading.answerer import ReaderAnswerer
    from assistant.reading.read import SPAN_READER_FILE, SpanReader

    if not SpanReader.available():
        raise ConfigError(f"The reader model {SPAN_READER_FILE} is missing: reinstall the package, or train it with "
                          "`make train-reader`.")
    lexical = assistant.lexical
    lexical.ensure(assistant.store)
    whole = HybridRetriever(assistant.store, assistant.embedder, lexical).whole_articles
    return ReaderAnswerer(SpanReader.shared(), min_confidence, expand=whole, embed=assistant.embedder.embed)


def verified(assistant: "Assistant") -> Answerer:
    from assistant.reading.verify import VerifiedAnswerer

    # min_confidence is the ranker's; the reader checks with the threshold validated for it
    return VerifiedAnswerer(extractive(assistant), _span_reader(assistant, None))


def openai(assistant: "Assistant") -> Answerer:
    return _llm("openai", assistant)


def ollama(assistant: "Assistant") -> Answerer:
    return _llm("ollama", assistant)


def llamacpp(assistant: "Assistant") -> Answerer:
    return _llm("llamacpp", assistant)


def overlap(assistant: "Assistant") -> Answerer:
    from assistant.ranker.baseline import OverlapAnswerer

    return OverlapAnswerer()


def _sentence_reader():
    """The fine-tuned sentence reader's embed function; None (with a warning) when its model file is missing."""
    from assistant.models.reader import READER_FILE, Reader

    if not Reader.available():
        log.warning("reader model %s is missing: answers fall back to the base model's similarity (less accurate); "
                    "reinstall the package or run `make train-answerer`", READER_FILE)
        return None
    return Reader.shared().embed


def _llm(name: str, assistant: "Assistant") -> Answerer:
    from assistant.llm.answerer import LLMAnswerer
    from assistant.llm.models import SPECS, require

    require(SPECS[name])  # a missing extra fails now, not at the first question

    def embed(texts: list[str]):
        return assistant.embedder.embed(texts)

    return LLMAnswerer(name, assistant.settings, embed, fallback=lambda: extractive(assistant))
