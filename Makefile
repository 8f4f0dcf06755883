# Every target bootstraps .venv by itself: a fresh clone needs only Python 3.10+ and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo` gets its own venv with only the library and the demo extra (no test,
# lint or ops-kit tools): what a newcomer installs to see it run.
DEMO_VENV := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

.PHONY: test test-floor demo lint bench bench-quick clean system-deps dashboards rules soak

# A second venv with the oldest redis-py pyproject.toml declares, installed next to
# every other dependency as pip resolves them: the floor is tested as a whole install.
FLOOR_VENV := .venv-floor
REDIS_FLOOR := $(shell sed -n 's/^ *"redis>=\([0-9.]*\)",.*/\1/p' pyproject.toml)
FLOOR_STAMP := $(FLOOR_VENV)/.installed-$(REDIS_FLOOR)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(FLOOR_STAMP): pyproject.toml
	test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install --quiet -e '.[dev]' 'redis==$(REDIS_FLOOR)'
	touch $(FLOOR_STAMP)

system-deps:
	bash scripts/install-system-deps.sh

# Lint first (a change that fails it fails the tests too), then the whole suite with the
# newest redis-py, then the store's tests with the oldest.
test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -q
	$(MAKE) test-floor

test-floor: $(FLOOR_STAMP) system-deps
	$(FLOOR_VENV)/bin/python -c "import redis, openai_agents_session; assert redis.__version__ == '$(REDIS_FLOOR)', redis.__version__"
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_store_*.py

lint: $(STAMP)
	$(BIN)/ruff check src tests dashboards deploy benchmarks
	$(BIN)/ruff format --check src tests dashboards deploy benchmarks
	$(BIN)/mypy --strict src

# Regenerate the dashboard JSON, the Prometheus rule files and the Kubernetes
# manifests built from them (tests fail while the committed copies are stale).
dashboards: $(STAMP)
	$(BIN)/python dashboards/build.py
	$(BIN)/python deploy/generate.py

# Regenerate the Prometheus rules and the Kubernetes manifests built from them, with
# other thresholds if asked (a bad value stops it with one line, nothing written):
#   make rules SET="latency_threshold_seconds=0.5 error_ratio=0.01" OUT=my-deploy/
#   make rules THRESHOLDS=my-thresholds.yaml OUT=my-deploy/
THRESHOLDS ?= deploy/prometheus/thresholds.yaml
OUT ?= deploy
rules: $(STAMP)
	$(BIN)/python deploy/generate.py --thresholds $(THRESHOLDS) --out-dir $(OUT) \
		$(foreach pair,$(SET),--set $(pair))

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

$(DEMO_STAMP): pyproject.toml
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEMO_VENV)/bin/python -m pip install --quiet -e '.[demo]'
	touch $(DEMO_STAMP)

# Extra demo options: make demo ARGS="--keep-running --traffic-interval 0.5"
demo: $(DEMO_STAMP)
	$(DEMO_VENV)/bin/openai-agents-session demo $(ARGS)

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(FLOOR_VENV) .pytest_cache .mypy_cache .ruff_cache
