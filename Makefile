# The README's commands. Everything installs into .venv from PyPI; browser tests use Debian's
# Chromium (installed with apt-get when missing; never `playwright install`).
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
FLASK = $(BIN)/flask --app wastebank
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install demo run test test-js test-postgres chromium nodejs translations bench clean lint constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package to the version CI last tested, so a fresh machine
# installs what passed (pyproject.toml keeps the loose ranges a library user needs).
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

## make constraints: pin the versions installed now (after a deliberate upgrade that passed CI)
constraints: install
	{ echo "# Constraints: the versions CI last tested (make install uses them; regenerate with make constraints)."; \
	  $(BIN)/python -m pip freeze --exclude-editable; } > constraints.txt

## make lint: ruff (pyflakes, bugbear, simplify, line length 120, complexity 10; pyproject.toml)
lint: install
	$(BIN)/ruff check wastebank tests bench migrations config.py

install: $(VENV)/.installed

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

nodejs:
	@command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs >/dev/null; }

## make test-js: the browser code's own tests (Node's built-in runner; shared money vectors)
test-js: nodejs
	node --test tests/js/

## make demo: set up, migrate the SQLite database in instance/, load demo data once, serve
demo: install
	$(FLASK) db upgrade
	$(FLASK) seed demo
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

run: install
	$(FLASK) db upgrade
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: the whole suite (SQLite unless DATABASE_URL points at PostgreSQL)
test: install chromium test-js
	$(BIN)/python -m pytest

## make test-postgres: the whole suite on the local PostgreSQL
test-postgres: install chromium test-js
	psql -h 127.0.0.1 -U postgres -qtc "SELECT 1 FROM pg_database WHERE datname = 'wastebank_test'" | grep -q 1 \
	  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE wastebank_test"
	DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/wastebank_test $(BIN)/python -m pytest

## make test-stateful: the long random state machine over the money services, both databases
STATEFUL_STEPS ?= 10000
.PHONY: test-stateful
test-stateful: install
	STATEFUL_STEPS=$(STATEFUL_STEPS) $(BIN)/python -m pytest tests/test_stateful.py -k long -s -q
	psql -h 127.0.0.1 -U postgres -qtc "SELECT 1 FROM pg_database WHERE datname = 'wastebank_test'" | grep -q 1 \
	  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE wastebank_test"
	STATEFUL_STEPS=$(STATEFUL_STEPS) DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/wastebank_test \
	  $(BIN)/python -m pytest tests/test_stateful.py -k long -s -q

## make translations: extract strings, update the Indonesian catalogue, compile
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o wastebank/translations/messages.pot .
	$(BIN)/pybabel update -i wastebank/translations/messages.pot -d wastebank/translations
	$(BIN)/pybabel compile -d wastebank/translations

bench: install
	$(BIN)/python bench/deposits.py

## make bench-outbox: 200 queued deposits draining from the tablet's outbox, SQLite and PostgreSQL
.PHONY: bench-outbox
bench-outbox: install chromium
	$(BIN)/python bench/outbox_drain.py --database sqlite
	$(BIN)/python bench/outbox_drain.py --database postgresql

## make bench-http: the deposit endpoint beside a one-statement endpoint (gunicorn 2 workers, wrk), both databases
.PHONY: bench-http
bench-http: install
	command -v wrk >/dev/null || apt-get install -y wrk
	$(BIN)/python bench/http_ab.py --database sqlite
	$(BIN)/python bench/http_ab.py --database postgresql

## make bench-jakarta: statements at Jakarta size on PostgreSQL (2,300 units, two years; about 25 min)
.PHONY: bench-jakarta bench-history
bench-jakarta: install
	createdb -h 127.0.0.1 -U postgres wastebank_bench_jakarta 2>/dev/null || true
	nice -n 19 $(BIN)/python bench/statements_scale.py --db postgresql+psycopg://postgres@127.0.0.1/wastebank_bench_jakarta

## make bench-history: a 68-unit aggregator's statement at 1 and at 5 years of history
## (HIST_DB=wastebank_<you>_hist for databases of your own; HIST_ARGS="--reuse --repeat 15" to
## measure already generated ones again)
HIST_DB ?= wastebank_bench_hist
HIST_ARGS ?=
bench-history: install
	createdb -h 127.0.0.1 -U postgres $(HIST_DB)1 2>/dev/null || true
	createdb -h 127.0.0.1 -U postgres $(HIST_DB)5 2>/dev/null || true
	$(BIN)/python bench/statements_scale.py --db postgresql+psycopg://postgres@127.0.0.1/$(HIST_DB)1 --units 68 --years 1 $(HIST_ARGS)
	$(BIN)/python bench/statements_scale.py --db postgresql+psycopg://postgres@127.0.0.1/$(HIST_DB)5 --units 68 --years 5 $(HIST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
