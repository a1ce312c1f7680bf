"""Word-level text handling shared by BM25 and the answerer: tokens, stop words, stems, number words."""

from __future__ import annotations

import functools
import re

import Stemmer

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?(?:[.,][0-9]+)*")

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both but
    by can could did do does doing down during each few for from further had has have having he her here hers herself
    him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where which while who whom why
    will with would you your yours yourself yourselves also did does said says say told
    according whose many much ever""".split()
)

_UNITS = """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen""".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
# Number words and their values, smallest first: a pattern built from them tries "seven" before "seventeen".
NUMBER_WORDS: dict[str, int] = (
    {w: i for i, w in enumerate(_UNITS)}
    | {w: 20 + 10 * i for i, w in enumerate(_TENS)}
    | {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
)


@functools.lru_cache(maxsize=1)
def _stemmer():
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessive endings dropped."""
    return [re.sub(r"['’]s$", "", w.lower()) for w in _TOKEN.findall(text)]


def terms(text: str) -> list[str]:
    """Stemmed content words: what BM25 indexes and what overlap is measured in."""
    return _stemmer().stemWords([w for w in words(text) if w not in STOP_WORDS])


def stem(word: str) -> str:
    return _stemmer().stemWord(word.lower())
