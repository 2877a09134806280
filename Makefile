# actfit: every set-up step lives here, so a fresh clone needs only `make demo` / `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test fuzz lint bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test,torch,onnx]'
	touch $(STAMP)

## The main job: a least-squares rational fit of leaky ReLU, written to fit.json.
demo: $(STAMP)
	$(BIN)/actfit lsq leaky_relu --slope 0.01 --range -3 3 --out fit.json

## The whole test suite (lint first). pytest exit 5 (no tests collected) fails the target.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/actfit build-ops
	$(BIN)/python -m pytest -q -p no:cacheprovider

## The Hypothesis tests with freshly drawn examples (`make test` draws a fixed sequence).
fuzz: $(STAMP)
	ACTFIT_HYPOTHESIS=explore $(BIN)/python -m pytest -q -p no:cacheprovider -m hypothesis

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/lsq.py

clean:
	rm -rf $(VENV) build *.egg-info
