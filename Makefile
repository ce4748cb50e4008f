# Two commands on a fresh machine: `make demo` and `make test`. Everything else installs itself.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test serve bench lint nginx venv

# editable_mode=compat: the work tree as a plain path in a .pth, which costs nothing at start-up
# (as an installed versectl); setuptools' default editable finder imports pathlib, importlib.util,
# fnmatch, urllib.parse... at every start of every Python in the venv (~10 ms)
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

venv: $(STAMP)

# Debian's packages for the e2e tests and the demo (nginx, chromium for the browser tests,
# postgresql, curl with HTTP/2 and openssl for the TLS tests), installed only when missing and
# we are root: one apt-get update, one install.
SYSTEM_PACKAGES := nginx-light:nginx chromium:chromium postgresql:postgres curl:curl openssl:openssl
nginx:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
		package=$${pair%%:*}; command=$${pair#*:}; \
		if command -v $$command >/dev/null 2>&1 || [ -x /usr/sbin/$$command ] \
			|| ls /usr/lib/postgresql/*/bin/$$command >/dev/null 2>&1; then :; \
		else missing="$$missing $$package"; fi; \
	done; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's$$missing for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "missing:$$missing and we are not root: their tests will be skipped (CI=true fails them)"; fi

demo: venv
	$(BIN)/python -m versectl.demo

test: venv nginx lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

serve: venv
	$(BIN)/verse-backend --host 127.0.0.1 --port 7776

bench: venv nginx
	$(BIN)/python bench/probe_fidelity.py
	$(BIN)/python bench/check_nginx.py
	$(BIN)/python bench/probe_bombs.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
