# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install train eval train-ledger eval-ledger bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/loyalty analyze sample_transcripts --out out

test: install
	$(BIN)/python -m pytest -q

# heads and adapter, then the ledger's judge, which reads the adapter's vectors
train: install
	$(BIN)/python models/train.py
	$(BIN)/python models/train_ledger.py

eval: install
	$(BIN)/python models/train.py --eval

# the cross-call ledger's pair judge (models/ledger.*) from models/data/accounts_train
train-ledger: install
	$(BIN)/python models/train_ledger.py

# scores the ledger on a folder in the accounts layout (manifest.csv + key.jsonl)
ACCOUNTS ?= models/data/accounts_train
eval-ledger: install
	$(BIN)/python models/eval_ledger.py $(ACCOUNTS)

# speed and memory on a seeded corpus of 45-minute calls (bench/run.py); CALLS=50 for a quick look
CALLS ?= 200
bench: install
	$(BIN)/python bench/run.py --calls $(CALLS)

clean:
	rm -rf out .pytest_cache bench/work
