"""The reader: the fine-tuned model shipped in assistant/models, loaded offline, and what it is for."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from assistant.backends import _sentence_reader as _reader
from assistant.models.reader import READER_FILE, Reader


def test_reader_ships_with_the_package_and_loads_offline():
    assert READER_FILE.is_file(), (
        "assistant/models/reader-int8.onnx is missing: run `make train-answerer` or restore it from git"
    )
    reader = Reader.shared()
    vectors = reader.embed(["Who designed the bridge?", "The bridge was designed by Anna Berg."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    assert reader.model_id.startswith("sentence-transformers/all-MiniLM-L6-v2+reader@")


@pytest.mark.parametrize("question, answering, restating", [
    # made up for this test (no question set holds them): the answer sits in a sentence that shares few words
    ("Who designed the new central library in Leeds?",
     "It was designed by the Dutch architect Maria Lopez, whose firm won the commission in 2003.",
     "The new central library in Leeds opened to the public on Monday after three years of building work."),
    ("On what date will the ferry service between Oban and Mull resume?",
     "Sailings are expected to start again on 14 March, the operator said.",
     "The ferry service between Oban and Mull has been suspended after storms damaged the pier."),
])  # (a "why" pair of this kind is NOT flipped by the reader: why-questions are few in its training data)
def test_reader_prefers_the_answering_sentence_to_the_restating_one(question, answering, restating):
    q, a, r = Reader.shared().embed([question, answering, restating])
    assert a @ q > r @ q


def test_missing_reader_falls_back_with_a_warning(monkeypatch, tmp_path, caplog):
    monkeypatch.setattr(Reader, "available", classmethod(lambda cls, path=READER_FILE: False))
    with caplog.at_level(logging.WARNING):
        assert _reader() is None
    assert "reader model" in caplog.text and "make train-answerer" in caplog.text
