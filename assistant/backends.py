"""Answer backends, chosen by name in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.api import Assistant

BACKENDS = ("extractive",)


def make_answerer(name: str, assistant: "Assistant"):
    if name == "extractive":
        from assistant.extractive import ExtractiveAnswerer

        lexical = assistant.lexical
        lexical.ensure(assistant.store)
        from assistant.retrieval import HybridRetriever

        whole = HybridRetriever(assistant.store, assistant.embedder, lexical).whole_articles
        return ExtractiveAnswerer(assistant.embedder.embed, lexical.idf, assistant.settings.min_confidence, expand=whole)
    raise ConfigError(f"Unknown answer backend {name!r}; choose one of {', '.join(BACKENDS)}.")
