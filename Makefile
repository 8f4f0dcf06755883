# Every target bootstraps .venv by itself: a fresh clone needs only Python 3.10+ and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo` gets its own venv with only the library and the demo extra (no test,
# lint or ops-kit tools): what a newcomer installs to see it run.
DEMO_VENV := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

.PHONY: test test-floor test-latest lock demo lint bench bench-quick clean system-deps dashboards rules soak

# Every install takes its versions from one lock (pip constraints: exact versions of the
# runtime dependencies, the development and lint tools, pip and the build backend), so
# a release elsewhere cannot change what `make test` runs. `make lock` renews it;
# `make test-latest` tries the newest releases without gating anything.
LOCK := requirements/constraints.txt
PIP_LOCKED := -m pip install --quiet --constraint $(LOCK) --build-constraint $(LOCK)
# pip itself comes first, at the locked version (older pips lack --build-constraint).
define bootstrap_pip
	$(1)/bin/python -m pip install --quiet --constraint $(LOCK) pip
endef

# A second venv with the oldest redis-py pyproject.toml declares, installed next to
# every other dependency at its locked version: the floor is tested as a whole install.
FLOOR_VENV := .venv-floor
REDIS_FLOOR := $(shell sed -n 's/^ *"redis>=\([0-9.]*\)",.*/\1/p' pyproject.toml)
FLOOR_STAMP := $(FLOOR_VENV)/.installed-$(REDIS_FLOOR)
FLOOR_LOCK := $(FLOOR_VENV)/constraints.txt

# The newest releases of the runtime dependencies, with the lint and test tools locked
# so only the library's dependencies differ from `make test`.
LATEST_VENV := .venv-latest
LATEST_LOCK := $(LATEST_VENV)/constraints.txt
LOCKED_TOOLS := ruff|mypy|pytest|pytest-asyncio|pytest-timeout|hypothesis|pip|setuptools|wheel

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call bootstrap_pip,$(VENV))
	$(BIN)/python $(PIP_LOCKED) -e '.[dev]'
	touch $(STAMP)

$(FLOOR_STAMP): pyproject.toml $(LOCK)
	test -x $(FLOOR_VENV)/bin/python || $(PYTHON) -m venv $(FLOOR_VENV)
	$(call bootstrap_pip,$(FLOOR_VENV))
	grep -v '^redis==' $(LOCK) > $(FLOOR_LOCK)
	$(FLOOR_VENV)/bin/python -m pip install --quiet --constraint $(FLOOR_LOCK) \
		--build-constraint $(LOCK) -e '.[dev]' 'redis==$(REDIS_FLOOR)'
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

# Not part of `make test`: it tells whether the newest releases of the dependencies
# still work (type checks and the whole suite), it does not gate a change.
test-latest: system-deps
	test -x $(LATEST_VENV)/bin/python || $(PYTHON) -m venv $(LATEST_VENV)
	$(call bootstrap_pip,$(LATEST_VENV))
	grep -E '^($(LOCKED_TOOLS))==' $(LOCK) > $(LATEST_LOCK)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager \
		--constraint $(LATEST_LOCK) --build-constraint $(LATEST_LOCK) -e '.[dev]'
	$(LATEST_VENV)/bin/python -m pip list --format freeze \
		| grep -iE '^(redis|openai-agents|opentelemetry-api|prometheus.client|structlog)=='
	$(LATEST_VENV)/bin/mypy --strict --cache-dir $(LATEST_VENV)/.mypy_cache src
	$(LATEST_VENV)/bin/python -m pytest -q -p no:cacheprovider

# Renew the lock from the newest releases that pyproject.toml admits (then run
# `make test` and commit both). The lock is made on the CI's CPython (3.11).
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	.venv-lock/bin/python -m pip install --quiet -e '.[dev,bench]'
	{ echo '# Exact versions for every install the Makefile, the demo and the Dockerfile make.'; \
	  echo '# Made by `make lock` with' "$$(.venv-lock/bin/python -V)"'; do not edit by hand.'; \
	  .venv-lock/bin/python -m pip freeze --all --exclude-editable | LC_ALL=C sort -f; \
	} > $(LOCK)
	rm -rf .venv-lock

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
	$(BIN)/python $(PIP_LOCKED) -e '.[bench]'
	$(BIN)/python benchmarks/run.py

bench-quick: $(STAMP)
	$(BIN)/python $(PIP_LOCKED) -e '.[bench]'
	$(BIN)/python benchmarks/run.py --quick

# The reliability suite with every count x10 and Sentinel's default timings
# (about 10 minutes); writes reliability-soak.md.
soak: $(STAMP) system-deps
	$(BIN)/python tests/reliability/soak.py 10

$(DEMO_STAMP): pyproject.toml $(LOCK)
	test -x $(DEMO_VENV)/bin/python || $(PYTHON) -m venv $(DEMO_VENV)
	$(call bootstrap_pip,$(DEMO_VENV))
	$(DEMO_VENV)/bin/python $(PIP_LOCKED) -e '.[demo]'
	touch $(DEMO_STAMP)

# Extra demo options: make demo ARGS="--keep-running --traffic-interval 0.5"
demo: $(DEMO_STAMP)
	$(DEMO_VENV)/bin/openai-agents-session demo $(ARGS)

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(FLOOR_VENV) $(LATEST_VENV) .venv-lock .pytest_cache .mypy_cache .ruff_cache
