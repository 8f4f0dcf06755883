# Every target bootstraps .venv by itself: a fresh clone needs only Python 3.10+ and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench bench-quick clean system-deps dashboards soak

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests dashboards deploy benchmarks
	$(BIN)/ruff format --check src tests dashboards deploy benchmarks
	$(BIN)/mypy --strict src

# Regenerate the dashboard JSON, the Prometheus rule files and the Kubernetes
# manifests built from them (tests fail while the committed copies are stale).
dashboards: $(STAMP)
	$(BIN)/python dashboards/build.py
	$(BIN)/python deploy/generate.py

# Benchmarks (benchmarks/README.md), each starting its own Valkey: the full run
# (5 to 8 minutes) writes benchmarks/RESULTS.md and results.json; the quick run
# (about a minute) writes the same report into benchmarks/quick/.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py --quick

# The reliability suite with every count x10 and Sentinel's default timings
# (about 10 minutes); writes reliability-soak.md.
soak: $(STAMP) system-deps
	$(BIN)/python tests/reliability/soak.py 10

demo: $(STAMP)
	$(BIN)/openai-agents-session demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
