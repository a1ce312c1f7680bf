"""Optional parts of the package: each is installed by an extra, and a missing one is one clear message.

    ui        the chat page (`assistant ui`): gradio               pip install 'news-assistant[ui]'
    plots     the charts of the eval report (`eval --out`)         pip install 'news-assistant[plots]'
    openai, ollama, llamacpp: the LLM answer backends (assistant/llm/models.py)
"""

from __future__ import annotations

import importlib

from assistant.core.errors import BackendError

PROJECT = "news-assistant"


def require(module: str, extra: str, needed_by: str) -> None:
    """Raise BackendError naming the extra to install when `module` cannot be imported; `needed_by` is what needs it
    ("The chat page")."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".")[0].replace("_", "-")
        raise BackendError(f"{needed_by} needs the optional package {package!r}, which is not installed ({exc}). "
                           f"Install it with: pip install '{PROJECT}[{extra}]'") from None
