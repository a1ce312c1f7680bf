"""Which passages the reader reads: the retrieved ones, then the other chunks of the best few articles.

A fact is often a few paragraphs away from the chunk that matched the question's words, so the top articles are read
whole (bounded by `max_passages`); every passage read counts as retrieved for this question when cited.
"""

from __future__ import annotations

from typing import Callable

from assistant.core.answer import Passage


def passages_to_read(passages: list[Passage], expand: Callable[[list[str]], list[Passage]] | None,
                     expand_articles: int, max_passages: int) -> list[Passage]:
    if not passages:
        return []
    found = list(passages)
    if expand and expand_articles > 0:
        top = list(dict.fromkeys(p.article_id for p in passages))[:expand_articles]
        have = {p.chunk_id for p in passages}
        found += [p for p in expand(top) if p.chunk_id not in have]
    return found[:max_passages]
