# Two commands on a fresh machine: `make run` and `make test`. Both set up .venv first (quick when nothing changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QUESTION ?= When did Lavrov visit Pakistan?

.PHONY: setup run ask test test-fast eval-seeds eval-bbc train-answerer train-ranker bench clean

setup: $(STAMP)

# torch is pinned and installed first: the CPU wheel is on these machines; an unpinned torch pulls a CUDA build of several GB.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: setup
	$(BIN)/assistant ui

ask: setup
	$(BIN)/assistant ask "$(QUESTION)"

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

eval-seeds: setup
	$(BIN)/assistant --data-dir .data/seeds eval seeds/questions.jsonl --corpus seeds --out reports/seeds

eval-bbc: setup
	$(BIN)/assistant --data-dir .data/bbc eval tests/data/bbc_dev.jsonl --corpus ../shared/corpora/bbc --compare hybrid,dense,bm25,bm25-k1,overlap --out reports/bbc

# Ingest throughput and query latency beside the naive LangChain recipe (~25 min on 2 cores); see benchmarks/README.md.
bench: setup
	$(BIN)/python -m benchmarks --repeat 1

# Retrain the extractive answerer on the BBC question sets (needs the BBC store from eval-bbc): the reader model
# (~20 min on 2 cores), then the sentence ranker on the reader's out-of-fold scores, with a cross-validated table.
TRAIN_QUESTIONS = tests/data/bbc_train.jsonl tests/data/bbc_train_para.jsonl tests/data/bbc_train_para2.jsonl tests/data/bbc_dev.jsonl \
                  tests/data/bbc_unanswerable.jsonl
train-answerer: setup
	$(BIN)/python tools/train_reader.py .data/bbc $(TRAIN_QUESTIONS)
	$(MAKE) train-ranker

train-ranker: setup
	$(BIN)/python tools/train_ranker.py .data/bbc $(TRAIN_QUESTIONS)

clean:
	rm -rf $(VENV) .data reports .pytest_cache
