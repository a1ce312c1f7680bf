"""Ask questions of a news-article collection; get short answers with cited passages.

    from assistant import Assistant
    a = Assistant(data_dir="data")
    a.ingest("seeds")
    answer = a.ask("When did Lavrov visit Pakistan?")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.core.answer import Answer, Citation, Passage
    from assistant.core.errors import AssistantError
    from assistant.core.settings import Settings

# The public names, each imported when first used: importing a lower layer (assistant.core.errors, from ingest) must
# not load the service layer, which imports ingest in turn.
_EXPORTS = {
    "Answer": "assistant.core.answer",
    "Assistant": "assistant.api",
    "AssistantError": "assistant.core.errors",
    "Citation": "assistant.core.answer",
    "Passage": "assistant.core.answer",
    "Settings": "assistant.core.settings",
}
__all__ = ["Answer", "Assistant", "AssistantError", "Citation", "Passage", "Settings"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
