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
    The normalised body and the content id are computed once and kept until `text` or `body_start` change:
    ingest asks for the id once per chunk, and re-hashing a long article per chunk made ingest quadratic.
    """

    source: str
    text: str
    title: str
    date: date | None = None
    url: str | None = None
    body_start: int = 0  # where the body starts in `text` (after a headline), for de-duplication
    extra: dict = field(default_factory=dict)
    # (text, body_start, normalised, id)
    _cache: tuple | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def normalised_text(self) -> str:
        """The body with white space folded and lower-cased: what de-duplication compares."""
        return self._cached()[2]

    @property
    def article_id(self) -> str:
        """Content id: the same story under another file name or headline gets the same id."""
        return self._cached()[3]

    def _cached(self) -> tuple:
        cache = self._cache
        if cache is None or cache[0] is not self.text or cache[1] != self.body_start:
            normalised = normalise(self.text[self.body_start:])
            cache = self._cache = (self.text, self.body_start, normalised, _digest(normalised))
        return cache


def normalise(text: str) -> str:
    """White space folded to single spaces, trimmed, lower-cased: re-wrapped copies compare equal."""
    return _SPACE.sub(" ", text).strip().lower()


def content_hash(text: str) -> str:
    """Hash of the text with white space folded, so re-wrapped copies count as the same."""
    return _digest(normalise(text))


def _digest(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:32]
