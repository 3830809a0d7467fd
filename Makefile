# Two commands do all the set-up: `make run` stylizes the default images, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint export notebooks html slides students clean

run: $(VENV)/.installed  ## install what is needed, then stylize the default images
	$(BIN)/python -m d2lstyle

NBVAL := --nbval --nbval-current-env --nbval-sanitize-with=nbval_sanitize.cfg --nbval-cell-timeout=1200

test: $(VENV)/.installed  ## lint, the notebook/package sync check, every test, and nbval on every notebook
	$(BIN)/ruff check .
	$(BIN)/python tools/export.py --check
	$(BIN)/python -m pytest tests notebooks $(NBVAL)

test-fast: $(VENV)/.installed  ## lint, the sync check and the unit tests: no notebook, browser or wheel (a minute)
	$(BIN)/ruff check .
	$(BIN)/python tools/export.py --check
	$(BIN)/python -m pytest -m "not slow" tests

export: $(VENV)/.installed  ## regenerate d2lstyle/ from the notebooks
	$(BIN)/python tools/export.py

notebooks: $(VENV)/.installed  ## execute every notebook in place (outputs are committed), then re-export
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 --ExecutePreprocessor.record_timing=False notebooks/*.ipynb
	$(BIN)/python tools/export.py

html: $(VENV)/.installed  ## an HTML page per notebook and an index, into build/ (open build/index.html)
	$(BIN)/python tools/classroom.py html

slides: $(VENV)/.installed  ## a reveal.js slide deck per notebook, into build/slides/
	$(BIN)/python tools/classroom.py slides

students: $(VENV)/.installed  ## student notebooks (solutions replaced by stubs) and the data, into build/students/
	$(BIN)/python tools/classroom.py students

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
