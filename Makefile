# The project's commands. `make demo` and `make test` work from a fresh clone: they build what they need.
PY      ?= python3
VENV    := .venv
AVENV   := .venv-airflow
UV      := $(VENV)/bin/uv
UV_VERSION := 0.13.8
PYTEST  := $(VENV)/bin/python -m pytest
export UV_LINK_MODE := copy

.PHONY: browser bytecode setup lock demo check test test-unit test-integration up down status clean

setup: $(VENV)/.synced $(AVENV)/.synced bytecode browser ## build both virtual environments from the lock files (idempotent)

$(UV):
	$(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q uv==$(UV_VERSION)

$(VENV)/.synced: requirements/bridge.lock pyproject.toml | $(UV)
	$(UV) pip sync -q --compile-bytecode --python $(VENV)/bin/python requirements/bridge.lock
	$(UV) pip install -q --python $(VENV)/bin/python --no-deps -e .
	@touch $@

# The CLIs start faster from bytecode, and this machine sets PYTHONDONTWRITEBYTECODE.
bytecode: $(VENV)/.synced
	@$(VENV)/bin/python -m compileall -q bridge pipelines devkit flows trigger_script.py >/dev/null

$(AVENV)/.synced: requirements/airflow.lock pyproject.toml | $(UV)
	test -x $(AVENV)/bin/python || $(UV) venv -q --python $(PY) $(AVENV)
	$(UV) pip sync -q --compile-bytecode --python $(AVENV)/bin/python requirements/airflow.lock
	$(UV) pip install -q --python $(AVENV)/bin/python --no-deps -e .
	@touch $@

# Debian's chromium renders the HTML report in the browser test (a test tool's own browser download fails here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (for the report's browser test)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || { echo "cannot install chromium: run 'apt-get install chromium' as root" >&2; exit 1; }; }

lock: | $(UV) ## re-resolve the pins after editing requirements/*.in
	$(UV) pip compile -q --python-version 3.11 requirements/bridge.in -o requirements/bridge.lock
	$(UV) pip compile -q --python-version 3.11 requirements/airflow.in -o requirements/airflow.lock

up: setup
	$(VENV)/bin/bridge dev up

down:
	@test ! -x $(VENV)/bin/bridge || $(VENV)/bin/bridge dev down

status:
	$(VENV)/bin/bridge dev status

DEMO_WF := update_prices_daily
B := $(VENV)/bin/bridge

demo: setup ## build, start the stack, register the flows, show what each orchestrator knows, one workflow through the stages and back
	$(VENV)/bin/bridge dev up
	$(VENV)/bin/python -m flows.deploy
	$(VENV)/bin/bridge demo
	$(VENV)/bin/bridge check  # every port against the shadow contract; each deployment has run by now
	@echo "== one workflow through the stages: $(DEMO_WF)"
	$(B) rollback $(DEMO_WF) --reason "make demo: start from airflow"
	$(B) status $(DEMO_WF)
	$(B) promote $(DEMO_WF) --reason "make demo: the port is checked"
	$(B) trigger $(DEMO_WF) --shadow
	$(B) shadow-replay $(DEMO_WF) --from 2024-12-27T12:00Z --to 2024-12-30T12:00Z
	$(B) calibrate $(DEMO_WF) --runs 2
	$(B) gates $(DEMO_WF)
	$(B) cutover $(DEMO_WF) --reason "make demo: every gate holds"
	$(B) status $(DEMO_WF)
	$(B) rollback $(DEMO_WF) --reason "make demo: back to airflow, one command"
	$(B) status $(DEMO_WF)
	$(B) stages $(DEMO_WF) --history

# The gates, each named as it runs; the first that fails stops `make check` and so `make test` (and CI).
check: $(VENV)/.synced ## lint, format, types, layers, module size
	@echo "== ruff check (lint)" && $(VENV)/bin/ruff check .
	@echo "== ruff format --check" && $(VENV)/bin/ruff format --check .
	@echo "== mypy (strict over bridge/, default over the rest: pyproject.toml [tool.mypy])" && $(VENV)/bin/mypy
	@echo "== lint-imports (layers: pyproject.toml [tool.importlinter])" && $(VENV)/bin/lint-imports --no-cache
	@echo "== module size (tracked .py files <= 400 lines)" && $(VENV)/bin/python tools/check_module_size.py

test: setup check ## the gates, then the whole suite: unit, then integration and e2e against a real stack started by the tests
	$(PYTEST) -q

# Skips the gates (`make check` runs them); tests/unit/test_gates.py still proves each gate can fail.
test-unit: setup ## fast: logic only, no services
	$(PYTEST) -q -m unit

test-integration: setup
	$(PYTEST) -q -m "integration or e2e or fidelity"

# The fault matrix (README: Faults) on a private stack of its own: own ports, home, databases and queues,
# torn down at the end (Ctrl-C too); never the dev stack. ROWS=a,b runs only those rows (--list names them).
.PHONY: faults
faults: setup ## each fault injected on a private stack, read back, one table; exit 1 if a row fails
	$(VENV)/bin/python -m tests.faults $(if $(ROWS),--only $(ROWS))

# Drops only the databases the bridge marked as its own (a refusal names the database and stops here;
# I_OWN_THIS_DATABASE=1 drops it anyway). The shadow history (.bridge/history.db) stays unless ALL=1.
clean: down ## stop the stack, drop its own databases, remove its state and the environments; keeps the history store unless ALL=1
	@test ! -x $(VENV)/bin/python || $(VENV)/bin/python -m bridge.devstack.clean $(if $(I_OWN_THIS_DATABASE),--i-own-this-database)
	@if [ -n "$(ALL)" ]; then rm -rf .bridge; \
	elif [ -d .bridge ]; then find .bridge -mindepth 1 -maxdepth 1 ! -name 'history.db*' -exec rm -rf {} +; \
	  if [ -e .bridge/history.db ]; then echo "kept the history store .bridge/history.db (make clean ALL=1 removes it)"; fi; fi
	rm -rf $(VENV) $(AVENV)
