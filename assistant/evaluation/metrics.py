"""Scoring one answer: normalised answer match, token F1, retrieval ranks, groundedness."""

from __future__ import annotations

import math
import re

from assistant.text.terms import NUMBER_WORDS

# "thirty" matches "30"; million and larger stay words, as "1.13bn" becomes "1.13 billion"
_NUMBER_WORDS = {w: str(n) for w, n in NUMBER_WORDS.items() if n <= 1000}
_SCALES = {"bn": "billion", "b": "billion", "m": "million", "mn": "million", "k": "thousand", "tn": "trillion"}
_ARTICLES = {"a", "an", "the"}


def normalise(text: str) -> list[str]:
    """Tokens compared for answer matching: case, punctuation, currency signs, number formats and plurals folded.

    "$1.13bn" and "1.13 billion" both become ["1.13", "billion"]; "two-day" and "2 days" both ["2", "day"].
    """
    text = text.lower().replace("’", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"(\d)\s*(bn|mn|tn|m|k|b)\b", lambda m: f"{m[1]} {_SCALES[m[2]]}", text)
    text = re.sub(r"%|\bper ?cent\b", " percent ", text)
    text = re.sub(r"[$£€¥]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w.\s]", " ", text)
    tokens = []
    for token in text.split():
        token = _NUMBER_WORDS.get(token, token)
        if token in _ARTICLES:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


def contains_answer(text: str, expected: str) -> bool:
    """True when the normalised `expected` appears as a run of whole tokens in `text`."""
    want, have = normalise(expected), normalise(text)
    if not want:
        return False
    return any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))


def token_f1(prediction: str, expected: str) -> float:
    predicted, wanted = normalise(prediction), normalise(expected)
    if not predicted or not wanted:
        return 0.0
    common = sum(min(predicted.count(t), wanted.count(t)) for t in set(predicted))
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def first_relevant_rank(ranked: list[str], gold: set[str]) -> int | None:
    """1-based rank of the first gold article in a ranked list of article ids."""
    for rank, article in enumerate(ranked, start=1):
        if article in gold:
            return rank
    return None


def ndcg(ranked: list[str], gold: set[str], k: int) -> float:
    """Binary-relevance nDCG@k over distinct articles."""
    gains = [1.0 / math.log2(rank + 1) for rank, article in enumerate(ranked[:k], start=1) if article in gold]
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return sum(gains) / ideal if ideal else 0.0


def distinct(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
