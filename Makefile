# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install train eval bench clean

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

train: install
	$(BIN)/python models/train.py

eval: install
	$(BIN)/python models/train.py --eval

# speed and memory on a seeded corpus of 45-minute calls (bench/run.py); CALLS=50 for a quick look
CALLS ?= 200
bench: install
	$(BIN)/python bench/run.py --calls $(CALLS)

clean:
	rm -rf out .pytest_cache bench/work
