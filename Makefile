# Two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both build the environment first and are safe to run again.
VENV ?= .venv
PY := $(VENV)/bin/python
HML := $(VENV)/bin/hml
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo test clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cluster]'
	touch $(STAMP)

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
	tests/test_security_redteam.py

test: install
	$(VENV)/bin/pytest
	HML_SANDBOX=landlock $(VENV)/bin/pytest $(SECURITY_TESTS)
	$(HML) validate

clean:
	rm -rf $(VENV) hml-results
