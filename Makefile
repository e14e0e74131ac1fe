# Two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both build the environment first and are safe to run again.
VENV ?= .venv
PY := $(VENV)/bin/python
HML := $(VENV)/bin/hml
STAMP := $(VENV)/.installed
# Every dependency's version, for the runtime and the dev, cluster and instructor extras: `make lock` writes it,
# `make install` (and so CI) and the platform bundles (grader/platforms/bundle.py) install with it.
CONSTRAINTS := constraints.txt
PIP = -m pip --quiet --disable-pip-version-check
# Runs a step quietly: its output is shown only when it fails.
QUIET = sh -c 'log=$$(mktemp); "$$@" >"$$log" 2>&1 || { status=$$?; cat "$$log" >&2; rm -f "$$log"; exit $$status; }; rm -f "$$log"' quiet

.PHONY: install system-deps demo test test-fast lock clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@echo "installing the project and its pinned dependencies into $(VENV)"
	@$(QUIET) python3 -m venv $(VENV)
	@$(QUIET) $(PY) $(PIP) install --upgrade pip
	@$(QUIET) $(PY) $(PIP) install -c $(CONSTRAINTS) -e '.[dev,cluster,instructor]'
	@touch $(STAMP)

# Rewrites constraints.txt from a fresh environment (in a temporary folder): the newest versions
# pyproject.toml's ranges allow. Run it after changing a dependency in pyproject.toml, then `make test`.
# It also records the modules the runtime dependencies install (grader/course/environment.json): what a
# learner's module may import where it is graded.
lock:
	@echo "resolving pyproject.toml's dependencies in a fresh environment"
	@fresh=$$(mktemp -d) && trap 'rm -rf "$$fresh"' EXIT && \
	$(QUIET) python3 -m venv "$$fresh" && \
	$(QUIET) "$$fresh/bin/python" $(PIP) install --upgrade pip && \
	$(QUIET) "$$fresh/bin/python" $(PIP) install -e '.[dev,cluster,instructor]' && \
	{ echo "# Every dependency of hml-grader (runtime and the dev, cluster and instructor extras), pinned. Written by 'make lock';"; \
	  echo "# 'make install', CI and the platform bundles install with it (pip install -c constraints.txt)."; \
	  "$$fresh/bin/python" -m pip freeze --disable-pip-version-check --exclude-editable --exclude hml-grader; \
	} > $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS) && \
	"$$fresh/bin/python" -m grader.course.environment --write
	@echo "wrote $(CONSTRAINTS): $$(grep -c '==' $(CONSTRAINTS)) pins"

# bubblewrap confines learner code (without it, or Landlock, instructor grading refuses to run);
# redis-server is the broker the cluster tests start.
system-deps:
	@missing=""; command -v bwrap >/dev/null 2>&1 || missing="bubblewrap"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "missing:$$missing: run 'sudo apt-get install$$missing'" >&2; exit 1; fi; fi

install: system-deps $(STAMP)

demo: install
	$(HML) validate
	$(HML) grade-course examples/submissions --jobs 2 --output-dir hml-results/demo
	$(HML) report --output-dir hml-results/demo --assignment examples/submissions/assignment.toml

# The security suite runs twice: with bubblewrap, and with Landlock forced (as inside a container).
SECURITY_TESTS := tests/test_security.py tests/test_security_hybrid.py tests/test_security_mobile.py \
	tests/test_security_redteam.py tests/test_security_landlock.py tests/test_warm_pools.py

test: install
	$(VENV)/bin/pytest
	HML_SANDBOX=landlock $(VENV)/bin/pytest $(SECURITY_TESTS)
	$(HML) validate

# While working: the tests that need none of the tiers tests/conftest.py sets (no grading, no TensorFlow,
# no Redis, no Chromium), in under two minutes. `make test` runs everything; run it before landing.
test-fast: install
	$(VENV)/bin/pytest -m "not sandbox and not tensorflow and not redis and not chromium"

clean:
	rm -rf $(VENV) hml-results
