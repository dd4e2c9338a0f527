# LMS Bridge — the two commands of the README:  `make run`  and  `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test test-fast install install-test messages chromium demo lint bench bench-quick clean flower

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

## messages: the French catalog compiled (.mo files are built, never committed); needs GNU
## gettext's msgfmt, installed from Debian like chromium below when missing
MO := locale/fr/LC_MESSAGES/django.mo
$(MO): locale/fr/LC_MESSAGES/django.po | $(STAMP)
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; fi; }
	$(BIN)/python manage.py compilemessages --ignore .venv

messages: $(MO)

install: $(STAMP) $(MO)

.env:
	$(BIN)/python scripts/write_env.py .env

## run: install, migrate, seed the demo, then start web + worker + beat + the three sandboxes (Udemy :8001, LearnUpon :8002, Coursebase :8003)
run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py clear_metrics
	@echo "LMS Bridge on http://127.0.0.1:8000/  (Ctrl-C stops everything)"
	$(BIN)/honcho -f Procfile.dev start

## chromium: Debian's browser for the Playwright tests (never a downloaded browser build)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

## test: install what the tests need and run the whole suite
test: install chromium
	DJANGO_ENV=$${DJANGO_ENV:-test} $(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: the edit loop: the suite without the browser, real-worker and slow tests (CI runs all)
test-fast: install
	DJANGO_ENV=$${DJANGO_ENV:-test} $(BIN)/python -m pytest -m "not browser and not celery_worker and not slow" $(PYTEST_ARGS)

## flower: Celery's Flower on http://127.0.0.1:5555/ beside `make run` (the file broker works);
## basic auth from FLOWER_BASIC_AUTH=user:password in .env: no default, it stops without one
flower: install .env
	$(BIN)/python scripts/flower.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf var/*.sqlite3* var/broker var/celery-results var/metrics var/flower-metrics

## bench: the benchmark harness; writes bench/results.json, docs/benchmarks/*.png and the tables of BENCHMARKS.md
## (PostgreSQL sections use BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/lmsbridge_bench)
BENCH_ARGS ?=
bench: install
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

## bench-quick: the same harness at small sizes (checks it works; results stay in the var dir)
bench-quick: install
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)
