"""The default answerer: picks the sentence that answers the question, pulls the short answer out of it, no LLM.

Each sentence of the retrieved passages is scored on
- meaning: cosine similarity of question and sentence (the embedding model),
- reader: the same with the reader, the model fine-tuned to put a question next to its answering sentence,
- words: idf-weighted share of the question's content words found in the sentence,
- context: the same share over the article's title and passage, since a sentence often says "the firm",
- type: whether it holds the kind of answer asked for (a date for "when", an amount for "how much", …),
- head: whether that answer stands next to the question's head noun ("producer Robert Evans"),
- rank, position, specificity and a few more (FEATURES), combined by a linear ranker fitted by tools/train_ranker.py.
The answer refuses when its confidence (driven by whether the evidence mentions the question's names and numbers,
holds the asked type, and how well the reader says the best sentence fits) is low.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from assistant.core.answer import MAX_ANSWER_WORDS, Answer, Citation, Passage
from assistant.ranker.spans import MONEY, PERCENT, amounts, people, places
from assistant.text.dates import at_granularity, find_time_expressions
from assistant.text.names import SpanMatch, names
from assistant.text.question import QuestionAnalysis, analyse
from assistant.text.revisions import REVISION_GAP, Statement, newest_and_earlier, without_value
from assistant.text.sentences import split_sentences
from assistant.text.terms import terms, words
from assistant.text.timeframe import asks_for_latest, day_or_none

CONFIDENCE_SCALE = 1.6
RUNNER_UP_MARGIN = 3.0  # score gap (log-odds under the listwise ranker) below which the second sentence is quoted too
WEIGHTS_FILE = Path(__file__).resolve().parents[1] / "ranker_weights.json"
# Sentences embedded per question (by two models): bounds latency. 32 instead of 64 cuts the ranker's CPU time per
# question by a third on a CPU without AVX-512 (BBC test questions, p50 1,138 -> 723 ms) for 2 of the 612 BBC training
# questions (overall 0.866 -> 0.863; chosen there by a rule set before measuring: the smallest shortlist losing at
# most 2).
MAX_CANDIDATES = 32
MAX_RIVAL_SENTENCES = 24  # best-ranked sentences looked at for a newer or an earlier value of the answer's fact
FEATURES = (
    "meaning",
    "words",
    "focus",
    "context",
    "type",
    "rank",
    "position",
    "novelty",
    "specific",
    "clause",
    "length",
    "untyped_meaning",
    "untyped_words",
    "untyped_specific",
    "reason_cue",
    "head",
    "specific_meaning",
    "reader",
)
_REASON_CUE = re.compile(
    r"\b(because|after|over|due to|amid|following|demand\w*|protest\w*|in order to|so that|since|reason|blamed|caused|"
    r"as a result|led to|prompted|concern\w* (?:about|over)|accus\w*)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"\b(not|no|never|denied|denies|rejected|refused|failed|won't|didn't|doesn't|isn't|wasn't|cannot|can't)\b",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    passage: Passage
    rank: int
    text: str
    start: int  # in the article
    end: int
    previous: str = ""  # the sentence before it in the passage: "He said…" needs it
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0
    short: str | None = None


class ExtractiveAnswerer:
    """Answer = best sentence + the short answer in it, cited; or a refusal when the evidence is weak."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        idf: Callable[[str], float],
        min_confidence: float = 0.35,
        expand: Callable[[list[str]], list[Passage]] | None = None,
        expand_articles: int = 3,
        read: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        self.embed = embed
        self.read = read  # the fine-tuned reader (assistant.models.reader); without it, "reader" repeats "meaning"
        self.idf = idf
        self.min_confidence = min_confidence
        self.expand = expand  # fetches all chunks of the top articles
        self.expand_articles = expand_articles

    def answer(self, question: str, passages: list[Passage]) -> Answer:
        analysis = analyse(question)
        evidence = self._with_neighbours(passages)
        candidates = self._candidates(evidence)
        if not candidates:
            return Answer.refusal(question, analysis.kind)
        self._score(analysis, candidates)
        ranked = sorted(candidates, key=lambda c: c.score, reverse=True)
        chosen = quoted_sentences(analysis, ranked, self.idf)
        confidence = self._confidence(analysis, ranked, evidence)
        if confidence < self.min_confidence:
            return Answer.refusal(question, analysis.kind, confidence)
        lead, earlier = self._revised(analysis, ranked, chosen[0], confidence, evidence)
        return _compose(question, analysis, chosen if lead is chosen[0] else [lead], confidence, earlier)

    def stream(self, question: str, passages: list[Passage]) -> Iterator[str | Answer]:
        """Not written as it goes: the Answer alone (the Answerer protocol, assistant/backends.py)."""
        yield self.answer(question, passages)

    # ---- candidates and features ------------------------------------------------------------------

    def _with_neighbours(self, passages: list[Passage]) -> list[Passage]:
        """The retrieved passages, then the other chunks of the best few articles (all cited as retrieved for this
        question)."""
        if not self.expand or not passages:
            return passages
        top = list(dict.fromkeys(p.article_id for p in passages))[:self.expand_articles]
        have = {p.chunk_id for p in passages}
        return passages + [p for p in self.expand(top) if p.chunk_id not in have]

    def _candidates(self, passages: list[Passage]) -> list[Candidate]:
        seen: set[tuple[str, int]] = set()
        found = []
        article_rank = {a: r for r, a in enumerate(dict.fromkeys(p.article_id for p in passages))}
        for passage in passages:
            rank = article_rank[passage.article_id]
            previous = ""
            for span in split_sentences(passage.text):
                start = passage.start + span.start
                key = (passage.article_id, start)
                text = passage.text[span.start:span.end]
                if key not in seen and len(words(text)) >= 3:
                    seen.add(key)
                    found.append(Candidate(passage, rank, text, start, passage.start + span.end, previous))
                previous = text
        return found

    def _coverage(self, question_terms: tuple[str, ...], text_terms: set[str]) -> float:
        total = sum(self.idf(t) for t in question_terms)
        if not total:
            return 0.0
        return sum(self.idf(t) for t in question_terms if t in text_terms) / total

    def _score(self, analysis: QuestionAnalysis, candidates: list[Candidate]) -> None:
        self.features(analysis, candidates)
        combine(analysis, candidates)

    def features(self, analysis: QuestionAnalysis, candidates: list[Candidate]) -> None:
        """Fill each candidate's features (all 0..1)."""
        terms_of = _memo(_terms_with_compounds)  # a passage or previous sentence recurs across candidates
        sentence_terms = [terms_of(c.text) for c in candidates]
        focus_weight = self._focus_weights(analysis, candidates, sentence_terms)
        for c, terms_here in zip(candidates, sentence_terms):
            context_terms = terms_of(f"{c.passage.title} {c.passage.text}")
            with_previous = terms_here | terms_of(c.previous)
            c.features["words"] = max(
                self._coverage(analysis.terms, terms_here), 0.8 * self._coverage(analysis.terms, with_previous)
            )
            c.features["focus"] = _weighted_share(analysis.terms, terms_here, focus_weight[c.passage.article_id])
            c.features["context"] = self._coverage(analysis.terms, context_terms)
            published = day_or_none(c.passage.date)
            options = answer_options(analysis, c.text, published)
            option = best_option(analysis, c.text, published, self.idf, options)
            c.features["type"] = option[1] if option else 0.0
            c.features["head"] = 1.0 if any(beside_head(analysis, c.text, span) for span, _, _ in options) else 0.0
            c.features["clause"] = option[2] if option else 0.0
            c.features["length"] = min(1.0, len(c.text.split()) / 50)
            c.features["rank"] = 1.0 / (1.0 + c.rank)
        shortlist = sorted(
            candidates,
            key=lambda c: (
                c.features["words"]
                + c.features["focus"]
                + 0.5 * c.features["context"]
                + 0.3 * c.features["rank"]
                + 0.3 * c.features["type"]
            ),
            reverse=True,
        )[:MAX_CANDIDATES]
        articles = _articles(candidates)
        specific = _specific_questions(analysis, articles)
        vectors = self.embed([analysis.text] + [specific[a] for a in articles] + [c.text for c in shortlist])
        question_vector, specific_vectors, sentence_vectors = (
            vectors[0],
            vectors[1 : 1 + len(articles)],
            vectors[1 + len(articles) :],
        )
        row = {a: i for i, a in enumerate(articles)}
        if self.read:
            read = self.read([analysis.text] + [c.text for c in shortlist])
            reader_scores = read[1:] @ read[0]
        else:
            reader_scores = sentence_vectors @ question_vector
        for c, vector, reader_score in zip(shortlist, sentence_vectors, reader_scores):
            c.features["meaning"] = float(max(0.0, vector @ question_vector))
            c.features["specific_meaning"] = float(max(0.0, vector @ specific_vectors[row[c.passage.article_id]]))
            c.features["reader"] = float(max(0.0, reader_score))
        for c in candidates:
            for name in ("meaning", "specific_meaning", "reader"):
                c.features.setdefault(name, 0.0)
        _relative_features(analysis, candidates, articles)

    def _focus_weights(
        self, analysis: QuestionAnalysis, candidates: list[Candidate], sentence_terms: list[set[str]]
    ) -> dict[str, dict[str, float]]:
        """Per article, question terms weighted by how few of its sentences use them.

        The topic ("Air Deccan") recurs through an article; the words that single out the
        answer ("founded", "set up") do not, so they should count for more.
        """
        weights: dict[str, dict[str, float]] = {}
        by_article: dict[str, list[set[str]]] = {}
        for c, found in zip(candidates, sentence_terms):
            by_article.setdefault(c.passage.article_id, []).append(found)
        for article_id, sentences in by_article.items():
            n = len(sentences)
            weights[article_id] = {
                t: self.idf(t) * math.log(1.0 + n / max(1, sum(1 for found in sentences if t in found)))
                for t in analysis.terms
            }
        return weights

    def _revised(self, analysis: QuestionAnalysis, ranked: list[Candidate], best: Candidate, confidence: float,
                 evidence: list[Passage]) -> tuple[Candidate, Candidate | None]:
        """News revises itself: when dated articles give other values of the best sentence's fact and would be
        answered nearly as surely, the newest leads and the one before it is named with its date (decided in
        assistant/text/revisions.py, as for the span reader). Asked for the "latest" or "current" value, "nearly"
        is wider, and a figure or date in a sentence the ranker can hardly tell from the best one (within
        RUNNER_UP_MARGIN) counts as the asked fact even when the two are worded too differently for the embedding."""
        if not best.short or day_or_none(best.passage.date) is None:
            return best, None
        latest = asks_for_latest(analysis.text)
        gap = REVISION_GAP * (2 if latest else 1)
        rivals, seen = [], {best.passage.article_id}
        for c in ranked[1:MAX_RIVAL_SENTENCES]:
            if c.passage.article_id in seen or day_or_none(c.passage.date) is None:
                continue
            c.short = c.short or extract_short_answer(analysis, c.text, day_or_none(c.passage.date), self.idf)
            if not c.short:
                continue
            seen.add(c.passage.article_id)  # an article's best sentence with a value speaks for it
            rival_confidence = self._confidence(analysis, [c] + [r for r in ranked if r is not c], evidence)
            if rival_confidence >= self.min_confidence and rival_confidence >= confidence - gap:
                close = latest and best.score - c.score <= RUNNER_UP_MARGIN
                rivals.append(_statement(analysis, c, as_asked=close))
        if not rivals:
            return best, None
        return newest_and_earlier(self.embed, _statement(analysis, best), rivals)

    def _confidence(self, analysis: QuestionAnalysis, ranked: list[Candidate], evidence: list[Passage]) -> float:
        """0..1 from the hand-set rule: a logistic model over these features did no better in cross-validation."""
        return round(min(1.0, CONFIDENCE_SCALE * confidence_features(analysis, ranked, evidence)["rule"]), 3)


def confidence_features(
    analysis: QuestionAnalysis, ranked: list[Candidate], evidence: list[Passage]
) -> dict[str, float]:
    """What says the articles answer the question: its names and numbers are there, and the best sentence fits."""
    best = ranked[0]
    article_text = " ".join(p.title + " " + p.text for p in evidence if p.article_id == best.passage.article_id).lower()
    article_date = best.passage.date or ""
    anchors = analysis.anchors
    anchor_share = (
        sum(1 for a in anchors if _mentions(article_text, a) or a in article_date) / len(anchors) if anchors else 1.0
    )
    numbers = [a for a in anchors if a[0].isdigit()]
    near = f"{best.previous} {best.text}".lower()
    typed = analysis.answer_type not in ("other", "reason", "yesno")
    f = best.features
    return {
        "anchor_share": anchor_share,
        "anchors_missing": float(len(anchors) - round(anchor_share * len(anchors))),
        "numbers_near": 1.0 if all(_mentions(near, n) for n in numbers) else 0.0,
        "meaning": f["meaning"],
        "reader": f["reader"],
        "words": f["words"],
        "context": f["context"],
        "specific": f["specific"],
        "type_missing": 1.0 if typed and not f["type"] else 0.0,
        "score": best.score,
        "margin": best.score - ranked[1].score if len(ranked) > 1 else 5.0,
        # the hand-set rule: fit of the sentence (mostly the reader's), discounted for missing answer type,
        # names and numbers
        "rule": (0.6 * f["reader"] + 0.25 * f["words"] + 0.15 * f["context"])
        * (0.45 + 0.55 * f["type"] if typed else 1.0)
        * (1.0 if all(_mentions(near, n) for n in numbers) else 0.6)
        * anchor_share**2,
    }


@functools.lru_cache(maxsize=1)
def ranker_weights() -> dict[str, float]:
    """Feature weights fitted by tools/train_ranker.py (listwise, on question sets kept apart from the dev set)."""
    return json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))


def combine(analysis: QuestionAnalysis, candidates: list[Candidate], weights: dict[str, float] | None = None) -> None:
    """Score = a linear function of the features (the weights are learned; see ranker_weights)."""
    weights = weights or ranker_weights()
    for c in candidates:
        c.score = sum(weights.get(name, 0.0) * value for name, value in c.features.items())


def _statement(analysis: QuestionAnalysis, candidate: Candidate, as_asked: bool = False) -> Statement[Candidate]:
    """The candidate's short answer as a statement of a fact: its sentence with the value left out, on its date.
    `as_asked`: it states the asked fact, whatever the embedding says of its sentence."""
    published = day_or_none(candidate.passage.date)
    spans = [span for span, label, _ in answer_options(analysis, candidate.text, published) if label == candidate.short]
    fact = without_value(candidate.text, spans[0].start, spans[0].end) if spans else candidate.text
    return Statement(candidate, candidate.short or "", fact, published, as_asked)


def quoted_sentences(
    analysis: QuestionAnalysis, ranked: list[Candidate], idf: Callable[[str], float]
) -> list[Candidate]:
    """The sentence(s) the answer quotes, the first carrying the short answer (`.short`) and kept if only one fits.

    When the best sentence holds no answer of the asked type (no date for "when", no name for "who",
    no "because"/"after" for "why") but a close rival of the same article does, the rival comes first and
    the best one is quoted beside it: the best sentence often restates the question, its neighbour answers it.
    """
    best = ranked[0]
    best.short = extract_short_answer(analysis, best.text, day_or_none(best.passage.date), idf)
    if best.short is None and not _states_reason(analysis, best):
        for c in ranked[1:4]:
            if c.passage.article_id != best.passage.article_id:
                continue
            c.short = extract_short_answer(analysis, c.text, day_or_none(c.passage.date), idf)
            if c.short or _states_reason(analysis, c):
                return [c, best]
    return [best] + _close_runner_up(ranked)


def _states_reason(analysis: QuestionAnalysis, candidate: Candidate) -> bool:
    return analysis.answer_type == "reason" and bool(_REASON_CUE.search(candidate.text))


def _close_runner_up(ranked: list[Candidate]) -> list[Candidate]:
    """The second-best sentence of the same article when the ranker can hardly tell it from the best.

    The answer then quotes both (within the word limit), rather than bet on one.
    """
    best = ranked[0]
    for c in ranked[1:4]:
        if c.passage.article_id == best.passage.article_id and best.score - c.score <= RUNNER_UP_MARGIN:
            return [c]
    return []


def _relative_features(
    analysis: QuestionAnalysis, candidates: list[Candidate], articles: dict[str, "_Article"]
) -> None:
    """Features that compare a sentence with its rivals and with the question itself."""
    question_terms = set(analysis.terms)
    for article in articles.values():
        ordered, opening = article.sentences, article.opening
        specific = [t for t in analysis.terms if t not in opening]
        for index, c in enumerate(ordered):
            c.features["position"] = 1.0 / (1.0 + index)
            own = set(terms(c.text)) | set(terms(c.previous))
            c.features["specific"] = sum(1 for t in specific if t in own) / len(specific) if specific else 0.0
    untyped = analysis.answer_type in ("other", "reason", "yesno", "name")
    for c in candidates:
        own = set(terms(c.text))
        # A sentence that only restates the question adds nothing: the answer is what it says beyond it.
        c.features["novelty"] = len(own - question_terms) / len(own) if own else 0.0
        # Questions without a typed answer lean on other evidence: let them weigh it separately.
        for name in ("meaning", "words", "specific"):
            c.features[f"untyped_{name}"] = c.features[name] if untyped else 0.0
        c.features["reason_cue"] = 1.0 if analysis.answer_type == "reason" and _REASON_CUE.search(c.text) else 0.0


@dataclass
class _Article:
    sentences: list[Candidate]  # its candidates, in article order
    opening: set[str]  # words of its title and first sentences: they name its topic


def _articles(candidates: list[Candidate]) -> dict[str, _Article]:
    """The candidates grouped by article (in retrieval order), each with its opening's words."""
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(c.passage.article_id, []).append(c)
    articles = {}
    for article_id, group in groups.items():
        ordered = sorted(group, key=lambda c: c.start)
        opening = set(terms(ordered[0].passage.title)) | {
            t for c in ordered[:2] if c.start < 400 for t in terms(c.text)
        }
        articles[article_id] = _Article(ordered, opening)
    return articles


def _specific_questions(analysis: QuestionAnalysis, articles: dict[str, _Article]) -> dict[str, str]:
    """Per article, the question without the words its opening already uses: what singles out the answer.

    "Who established New York's Hit Factory recording studio?" against an article about the Hit Factory
    becomes "Who established recording" — closer in meaning to "The studio was founded by …".
    """
    questions = {}
    for article_id, article in articles.items():
        kept = [token for token in analysis.text.split() if not (terms(token) and terms(token)[0] in article.opening)]
        questions[article_id] = " ".join(kept) or analysis.text
    return questions


def _memo(function: Callable[[str], set[str]]) -> Callable[[str], set[str]]:
    """`function` with its results kept for the length of one question."""
    known: dict[str, set[str]] = {}

    def cached(text: str) -> set[str]:
        if text not in known:
            known[text] = function(text)
        return known[text]

    return cached


def _weighted_share(question_terms: tuple[str, ...], present: set[str], weight: dict[str, float]) -> float:
    total = sum(weight.get(t, 0.0) for t in question_terms)
    return sum(weight.get(t, 0.0) for t in question_terms if t in present) / total if total else 0.0


def _terms_with_compounds(text: str) -> set[str]:
    found = set(terms(text))
    tokens = words(text)
    found.update(a + b for a, b in zip(tokens, tokens[1:]))  # "Time Warner" meets "TimeWarner"
    return found


def _mentions(text: str, anchor: str) -> bool:
    """The anchor, or (for longer words) its first five letters starting a word: "Pakistani" meets "Pakistan"."""
    if re.search(rf"(?<![a-z0-9]){re.escape(anchor)}", text) or (
        anchor[0].isdigit() and anchor.replace(",", "") in text.replace(",", "")
    ):
        return True
    return (
        len(anchor) >= 6 and not anchor[0].isdigit() and bool(re.search(rf"(?<![a-z0-9]){re.escape(anchor[:5])}", text))
    )


def extract_short_answer(
    analysis: QuestionAnalysis, sentence: str, published: date | None, idf: Callable[[str], float] = lambda t: 1.0
) -> str | None:
    """The date, amount, name or place in `sentence` that answers the question, or None."""
    best = best_option(analysis, sentence, published, idf)
    return best[0] if best else None


def best_option(analysis: QuestionAnalysis, sentence: str, published: date | None,
                idf: Callable[[str], float] = lambda t: 1.0,
                options: list[tuple[SpanMatch, str, float]] | None = None) -> tuple[str, float, float] | None:
    """(short answer, how well it fits the question 0..1, share of the question found in its clause) in `sentence`.

    Among several, prefer one that counts what "how many X" asks about, is not named in the
    question, then the one in the clause sharing most (idf-weighted) with the question, then the
    nearest a matching word: in "Lavrov visited Islamabad in April this year, and Pakistan's
    ministers visited Russia last year", Lavrov's visit is April, the ministers' last year.
    """
    if options is None:
        options = answer_options(analysis, sentence, published)
    if not options:
        return None
    question_lower = analysis.text.lower()
    anchor_positions = _term_positions(sentence, analysis.terms)
    clauses = _clauses(sentence)

    def clause_weight(span: SpanMatch) -> float:
        start, end = next(((s, e) for s, e in clauses if s <= span.start < e), (0, len(sentence)))
        present = set(terms(sentence[start:end]))
        return sum(idf(t) for t in set(analysis.terms) if t in present)

    def preference(option: tuple[SpanMatch, str, float]) -> tuple:
        span, _, fit = option
        fresh = not any(re.search(rf"\b{re.escape(w)}\b", question_lower) for w in words(span.text) if len(w) > 2)
        distance = _distance(span, anchor_positions, sentence) if anchor_positions else 0.0
        return (-fit, -fresh, -beside_head(analysis, sentence, span), -clause_weight(span), distance)

    span, label, fit = min(options, key=preference)
    fresh = not any(re.search(rf"\b{re.escape(w)}\b", question_lower) for w in words(span.text) if len(w) > 2)
    total = sum(idf(t) for t in set(analysis.terms)) or 1.0
    return label, fit if fresh else fit * 0.5, clause_weight(span) / total


def answer_options(
    analysis: QuestionAnalysis, sentence: str, published: date | None
) -> list[tuple[SpanMatch, str, float]]:
    """Every (span, short answer, fit 0..1) in `sentence` of the kind the question asks for and not named in it."""
    kind = analysis.answer_type
    question_lower = analysis.text.lower()
    if kind == "date":
        expressions = find_time_expressions(sentence, published)
        options = [
            (
                SpanMatch(e.start, e.end, e.text),
                at_granularity(e, analysis.granularity) or e.text,
                1.0
                if analysis.granularity in (None, "year")
                or e.granularity == analysis.granularity
                or e.granularity == "day"
                else 0.7,
            )
            for e in expressions
        ]
    elif kind in ("number", "money", "percent", "duration"):
        options = [(m, m.text, _amount_fit(analysis, sentence, m)) for m in amounts(sentence, kind)]
    elif kind in ("person", "name", "place"):
        found = {"person": people, "name": names, "place": lambda text: places(text) or names(text)}[kind](sentence)
        options = [(m, m.text, 1.0 if " " in m.text else 0.8) for m in found if m.start > 0 or " " in m.text]
    else:
        return []
    return [
        (m, label, fit)
        for m, label, fit in options
        if m.text.lower() not in question_lower and not _all_in_question(m.text, question_lower)
    ]


def beside_head(analysis: QuestionAnalysis, sentence: str, span: SpanMatch) -> bool:
    """The span stands next to the question's head noun: "producer Robert Evans", "the Hackarmy trojan"."""
    if not analysis.head:
        return False
    before = terms(" ".join(sentence[:span.start].split()[-3:]))
    after = terms(" ".join(sentence[span.end:].split()[:3]))
    return bool(set(analysis.head) & (set(before) | set(after) | set(terms(span.text))))


def _amount_fit(analysis: QuestionAnalysis, sentence: str, match: SpanMatch) -> float:
    """1 when the amount is of the asked kind ("how many matches" -> "121 matches", money -> a currency), else less."""
    if analysis.unit:
        following = terms(sentence[match.end:match.end + 40])[:3]
        inside = terms(match.text)
        return 1.0 if analysis.unit in following or analysis.unit in inside else 0.6
    if analysis.answer_type == "money":
        return 1.0 if MONEY.search(match.text) else 0.5
    if analysis.answer_type == "percent":
        return 1.0 if PERCENT.search(match.text) else 0.5
    return 0.8


_CLAUSE_BREAK = re.compile(r";|:|,\s+(?:and|but|while|whilst|whereas)\s+|\s+-\s+")


def _clauses(sentence: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _CLAUSE_BREAK.finditer(sentence):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(sentence)))
    return bounds


def _all_in_question(text: str, question_lower: str) -> bool:
    tokens = [w for w in words(text) if len(w) > 1]
    return bool(tokens) and all(re.search(rf"\b{re.escape(t)}", question_lower) for t in tokens)


def _term_positions(sentence: str, question_terms: tuple[str, ...]) -> list[int]:
    wanted = set(question_terms)
    positions = []
    for match in re.finditer(r"[A-Za-z0-9]+", sentence):
        if terms(match.group()) and terms(match.group())[0] in wanted:
            positions.append(match.start())
    return positions


def _distance(span: SpanMatch, positions: list[int], sentence: str) -> float:
    """Character distance to the nearest matching word, doubled across a clause break (", and", ";")."""
    best = math.inf
    for position in positions:
        low, high = sorted((position, span.start))
        between = sentence[low:high]
        penalty = 2.0 if re.search(r"[;:]|,\s+(and|but|while|whereas)\b", between) else 1.0
        best = min(best, abs(position - span.start) * penalty)
    return best


def _compose(question: str, analysis: QuestionAnalysis, chosen: list[Candidate], confidence: float,
             earlier: Candidate | None = None) -> Answer:
    """Text = short answer, the sentence it comes from, then any other chosen sentence, with citation numbers; at most
    MAX_ANSWER_WORDS. With `earlier`, the value an older article gave is named after it with its date, cited too
    ("£3.8 million (as of 2024-03-22). … [1] Earlier: £3.6 million (2023-12-07). … [2]")."""
    best = chosen[0]
    lead = best.short
    if analysis.answer_type == "yesno":
        lead = "No" if _NEGATION.search(best.text) else "Yes"
    if earlier is not None:
        chosen = [best, earlier]
        first = f"{lead} (as of {best.passage.date})"
        second = f"Earlier: {earlier.short} ({earlier.passage.date})"
        half = MAX_ANSWER_WORDS // 2  # each part: its lead, the sentence, its marker
        shown = [f"{_trim(best.text, half - len(first.split()) - 1, analysis)} [1]",
                 f"{second}. {_trim(earlier.text, half - len(second.split()) - 1, analysis)} [2]"]
        text = " ".join([f"{first}."] + shown)
        return Answer(question=question, text=text, short_answer=lead, citations=_citations(chosen),
                      confidence=confidence, kind=analysis.kind)
    lead_words = len(lead.split()) + 1 if lead else 0
    if len(chosen) > 1 and lead_words + sum(len(c.text.split()) + 1 for c in chosen) > MAX_ANSWER_WORDS:
        chosen = [best]
    chosen = [best] + sorted(chosen[1:], key=lambda c: c.start)  # the sentence the short answer comes from first
    if len(chosen) == 1:
        shown = [f"{_trim(best.text, MAX_ANSWER_WORDS - lead_words - 1, analysis)} [1]"]
    else:
        shown = [f"{c.text} [{number}]" for number, c in enumerate(chosen, start=1)]
    text = " ".join(([f"{lead}."] if lead else []) + shown)
    return Answer(
        question=question, text=text, short_answer=lead, citations=_citations(chosen), confidence=confidence,
        kind=analysis.kind,
    )


def _citations(chosen: list[Candidate]) -> list[Citation]:
    return [
        Citation(
            number=number,
            article_id=c.passage.article_id,
            source=c.passage.source,
            title=c.passage.title,
            date=c.passage.date,
            url=c.passage.url,
            quote=c.text,
            quote_start=c.start,
            quote_end=c.end,
            passage=c.passage.text,
            passage_start=c.passage.start,
            passage_end=c.passage.end,
        )
        for number, c in enumerate(chosen, start=1)
    ]


def _trim(sentence: str, budget: int, analysis: QuestionAnalysis) -> str:
    """The sentence, or the window of it richest in question words when it is too long: at most `budget` words,
    the "…" that mark a cut included."""
    tokens = sentence.split()
    if len(tokens) <= budget:
        return sentence
    budget = max(1, budget - 2)
    wanted = set(analysis.terms)
    hits = [1 if set(terms(t)) & wanted else 0 for t in tokens]
    best_start = max(range(len(tokens) - budget + 1), key=lambda s: sum(hits[s:s + budget]))
    window = " ".join(tokens[best_start:best_start + budget])
    return ("… " if best_start else "") + window + (" …" if best_start + budget < len(tokens) else "")
