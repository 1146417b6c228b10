# asn-eval: one command for the report, one for the tests. Needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.asn-eval-installed

.PHONY: setup report test lint notebooks lab data clean

setup: $(STAMP)

# Reinstall only when the dependency declarations change; versions are pinned by
# constraints.txt so that committed notebook outputs and CI agree.
$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import platform, sys; sys.exit(0 if sys.version_info >= (3, 11) else "asn-eval needs Python 3.11 or newer; " + sys.executable + " is " + platform.python_version() + ". Run: make setup PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name asn-eval --display-name "Python (asn-eval)" >/dev/null
	touch $(STAMP)

report: setup
	$(BIN)/asn-eval report --lang id

lint: setup
	$(BIN)/ruff check asn_eval tests benchmarks

test: lint
	$(BIN)/pytest tests notebooks --nbval --nbval-current-env

notebooks: setup
	$(BIN)/asn-eval notebooks

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks

# Regenerate the committed synthetic dataset (asn-eval synth refuses a folder with files
# unless --force; it then replaces only the files it writes).
data: setup
	$(BIN)/asn-eval synth --out data/kupang-synthetic --force

clean:
	rm -rf reports/_notebooks reports/*-id reports/*-en reports/.*-build-* reports/.*-old-* reports/*.failed reports/*.failed-*
