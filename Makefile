# Two entry points (see README): `make demo` runs the main job, `make test` runs every test.
# Both create .venv/ and install what they need (CPU torch via constraints.txt, LPIPS assets via fetch-assets).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
QUIET_PIP := grep -v "^WARNING: Location" || true

.PHONY: install demo test export clean lab docs

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]' 2>&1 | $(QUIET_PIP)
	$(BIN)/python tools/check_env.py
	$(BIN)/heritage-inpaint fetch-assets 2>&1 | $(QUIET_PIP)
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p outputs/report
	$(BIN)/papermill nbs/report.ipynb outputs/report/report.ipynb --cwd nbs --log-level WARNING
	$(BIN)/jupyter nbconvert --to html --no-input --embed-images outputs/report/report.ipynb --log-level WARN
	@echo "report: outputs/report/report.html"

# the papermill notebooks (no number) run under pytest into temporary folders, so outputs/ stays the demo's
PAPERMILL_NBS := ^(report|restore_report|video_report|train_.*|ab_.*)\.ipynb$$

test: $(STAMP)
	tools/check_unchanged.sh $(BIN)/nbdev-clean
	tools/check_unchanged.sh $(BIN)/nbdev-export
	tools/check_unchanged.sh $(BIN)/python tools/readme_to_index.py
	$(BIN)/ruff check .
	$(BIN)/ruff format --check nbs tests benchmarks tools
	$(BIN)/nbdev-test --n-workers 2 --skip-file-re '$(PAPERMILL_NBS)'
	$(BIN)/pytest -q

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir nbs $(if $(filter 0,$(shell id -u)),--allow-root)

docs: $(STAMP)
	$(BIN)/python tools/build_docs.py

export: $(STAMP)
	$(BIN)/nbdev-export

clean:
	rm -rf $(VENV) outputs/report _docs _docs_src
