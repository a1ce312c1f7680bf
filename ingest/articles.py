"""The Article record every loader produces."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

_SPACE = re.compile(r"\s+")


@dataclass
class Article:
    """One news article: its text plus the metadata we cite it with.

    `text` is what gets chunked; citation spans are character offsets into it.
    `source` is the path relative to the ingested folder, prefixed by that folder's name.
    """

    source: str
    text: str
    title: str
    date: date | None = None
    url: str | None = None
    body_start: int = 0  # where the body starts in `text` (after a headline), for de-duplication
    extra: dict = field(default_factory=dict)

    @property
    def article_id(self) -> str:
        """Content id: the same story under another file name or headline gets the same id."""
        return content_hash(self.text[self.body_start:])


def content_hash(text: str) -> str:
    """Hash of the text with white space folded, so re-wrapped copies count as the same."""
    normalised = _SPACE.sub(" ", text).strip().lower()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]
