"""Chunking and sentence splitting: every chunk fits the embedding model, keeps exact offsets, and loses nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.text.sentences import split_sentences
from assistant.text.tokens import count_tokens
from ingest.chunking import Chunker

from conftest import SEED_FILE

# ---- the property: fits the model, exact spans, full coverage -----------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        " ",
        " ",
        " ",
        "\n",
        "\n\n",
        "\t",
        ". ",
        "! ",
        "? ",
        ", ",
        "; ",
        "<|endoftext|>",
        "<|endoftext|> ",
        "<|fim_prefix|>",
        "Mr. ",
        "U.S. ",
        "Dr. Smith ",
        "$1.13bn ",
        "1,000 ",
        "3.5% ",
        "e.g. ",
        "“quoted.” ",
        "’s ",
        "—",
        "...",
        "!!!!!!!!",
        "Lavrov visited Islamabad in April this year. ",
        "Café naïve Zürich ",
        "東京都の人口は増えた。",
        "Москва ",
        "مرحبا ",
        "👍🏽🎉",
        "\u00a0",
        "\u200b",
        "e\u0301" * 5,
        "0123456789" * 3,
    ]
)
_WORDS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=12
)
_LONG_WORD = st.builds(
    lambda ch, n: ch * n,
    st.sampled_from(["a", "x9", "ab.", "!", "é", "日", "🙂", "-", "<|endoftext|>"]),
    st.integers(50, 900),
)
_ANY = st.text(max_size=80)  # anything Unicode, controls and odd spaces included
_PIECE = st.one_of(_FRAGMENTS, _WORDS, _WORDS.map(lambda w: w + " "), _LONG_WORD, _ANY)
TEXTS = st.lists(_PIECE, min_size=0, max_size=120).map("".join)


def _check_chunks(embedder, text: str, chunk_tokens: int, overlap: int) -> None:
    chunker = Chunker(count_tokens, embedder.count_tokens, embedder.max_tokens, chunk_tokens, overlap)
    chunks = chunker.chunk(text)
    covered = bytearray(len(text))
    for position, chunk in enumerate(chunks):
        assert chunk.index == position
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert chunk.text == text[chunk.start:chunk.end]
        model_tokens = embedder.count_tokens(chunk.text)
        assert model_tokens <= embedder.max_tokens, (model_tokens, chunk.text[:200])
        covered[chunk.start:chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not missing, f"characters not in any chunk at {missing[:10]}: {[text[i] for i in missing[:10]]}"
    if not text.strip():
        assert chunks == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=TEXTS, sizes=st.sampled_from([(160, 40), (16, 0), (48, 20), (240, 100)]))
@example(text="<|endoftext|>" * 400, sizes=(160, 40))
@example(text="x" * 20_000, sizes=(160, 40))
@example(text="!" * 3000 + " end.", sizes=(160, 40))
@example(text="Word. " * 800, sizes=(240, 100))
@example(text="", sizes=(160, 40))
@example(text=" \n\t ", sizes=(160, 40))
def test_chunks_fit_model_keep_spans_and_cover_text(embedder, text, sizes):
    _check_chunks(embedder, text, *sizes)


def test_model_limit_is_the_real_tokenizer(embedder):
    assert embedder.max_tokens == 256
    # special tokens counted: [CLS] hello [SEP]
    assert embedder.count_tokens("hello") == 3
    assert embedder.count_tokens("hello world") == 4


def test_endoftext_counts_as_text_in_cl100k():
    # special-token text must not raise, and counts as ordinary characters (more than one token)
    assert count_tokens("<|endoftext|>") > 1
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 2


def test_seed_article_chunks(embedder, seed_article_text):
    chunker = Chunker(count_tokens, embedder.count_tokens, embedder.max_tokens, 160, 40)
    chunks = chunker.chunk(seed_article_text)
    assert len(chunks) >= 3
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 160
        assert embedder.count_tokens(chunk.text) <= embedder.max_tokens
    # chunks end on sentence boundaries and neighbours overlap by whole sentences
    assert all(c.text.rstrip()[-1] in ".”\"" for c in chunks)
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))
    assert chunks[0].start == 0 and chunks[-1].end == len(seed_article_text)
    assert SEED_FILE.exists()


def test_long_word_is_split_by_characters(embedder):
    text = "z" * 5000
    chunker = Chunker(count_tokens, embedder.count_tokens, embedder.max_tokens, 160, 40)
    chunks = chunker.chunk(text)
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == text


# ---- sentences -----------------------------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    return [text[s.start:s.end] for s in split_sentences(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Mr. Smith went to Washington. He arrived on Monday.",
            ["Mr. Smith went to Washington.", "He arrived on Monday."],
        ),
        ("The U.S. economy grew 3%. Prices rose.", ["The U.S. economy grew 3%.", "Prices rose."]),
        ("Revenue rose to $1.13bn. Profits fell.", ["Revenue rose to $1.13bn.", "Profits fell."]),
        ("It cost 3.5 million. Next.", ["It cost 3.5 million.", "Next."]),
        (
            "Dr. No met Mrs. Robinson at 5 p.m. yesterday. Fine.",
            ["Dr. No met Mrs. Robinson at 5 p.m. yesterday.", "Fine."],
        ),
        ("He said \"yes.\" Then he left!", ["He said \"yes.\"", "Then he left!"]),
        ("He said “yes.” Then he left?", ["He said “yes.”", "Then he left?"]),
        (
            "Headline without a stop\n\nBody starts here. Second one?",
            ["Headline without a stop", "Body starts here.", "Second one?"],
        ),
        ("Talks at the U.N. ended on Jan. 5 in Geneva. Bye.", ["Talks at the U.N. ended on Jan. 5 in Geneva.", "Bye."]),
        ("  Leading and trailing space.  ", ["Leading and trailing space."]),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_split_sentences(text, expected):
    assert _sentences(text) == expected


def test_split_sentences_spans_are_exact_and_cover_text():
    text = "  First one. Second, with Mr. Jones?\n\nThird: $1.13bn!  Fourth\n"
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == [
        "First one.",
        "Second, with Mr. Jones?",
        "Third: $1.13bn!",
        "Fourth",
    ]
    covered = {i for s in spans for i in range(s.start, s.end)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
