# Two commands: `make run` serves the platform with demo data; `make test` runs
# the whole suite.  Both set up .venv first (Python 3.11 and make are all that
# is needed).  Installs are pinned by constraints.txt.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INI ?= development.ini
PACKAGES := -e '.[testing]' -e plugins/auth -e plugins/stock -e plugins/reporting \
	-e 'plugins/admin[testing]' -e tests/example_plugin

.PHONY: run test install lint typecheck clean stack stack-stop

$(VENV)/.installed: setup.py plugins/*/setup.py tests/example_plugin/setup.py constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt $(PACKAGES)
	touch $@

install: $(VENV)/.installed

run: install
	mkdir -p var
	$(BIN)/plinth -c $(INI) db upgrade
	$(BIN)/plinth -c $(INI) stock demo
	$(BIN)/plinth -c $(INI) users ensure-admin
	@echo
	@echo "Plinth is starting on http://localhost:6543  (API docs: http://localhost:6543/docs)"
	@echo "Log in:  curl -s -X POST localhost:6543/auth/tokens -H 'Content-Type: application/json' \\"
	@echo "           -d '{\"username\": \"admin\", \"password\": \"<the password above>\"}'"
	@echo "Or sign in to the admin console: http://localhost:6543/admin/"
	@echo
	$(BIN)/pserve $(INI) --reload

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	$(BIN)/pytest

# The production shape on one machine: nginx, two Waitress processes,
# PostgreSQL and Redis (scripts/stack; README, "Operating it").
stack: install
	scripts/stack start

stack-stop:
	scripts/stack stop

clean:
	rm -rf $(VENV) var/*.sqlite*
