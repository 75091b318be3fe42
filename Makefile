# The two commands of the README: `make run` (portal with demo data) and `make test` (all checks).
SHELL := /bin/bash
# The venv's interpreter: the distribution's python3.11 when it can make a venv (Debian builds it
# with profile-guided optimisation and LTO, as the python:3.11 image of the Dockerfile is built;
# the pages cost 8-20 % less CPU than on a plain source build such as pyenv's default,
# bench/results.md 2026-12-03), else the python3 on the PATH. PYTHON=... chooses another.
PYTHON ?= $(shell /usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1 \
	&& echo /usr/bin/python3.11 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint messages bench backup restore worker beat clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py compilemessages --ignore '.venv' -v0
	@if $(PY) manage.py shell -c "import sys; from patients.models import Patient; sys.exit(0 if Patient.objects.exists() else 1)" 2>/dev/null; \
	  then $(PY) manage.py seed_demo --patients 0; \
	  else echo "First run: seeding the demo cohort (a few seconds)..."; $(PY) manage.py seed_demo; fi
	@echo "Portal: http://$(HOST):$(PORT)/"
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

messages: $(STAMP)
	# One run from the root: strings of an app that has a locale/ folder go to that folder,
	# the rest (templates/, rtuportal/, accounts/) to the root locale/.
	$(PY) manage.py makemessages -l fr -l en --ignore '.venv/*' --ignore 'tests/*' \
	  --ignore 'bench/*' --ignore 'staticfiles/*' --ignore 'ops/*'
	$(PY) manage.py compilemessages --ignore '.venv'

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py compilemessages --ignore '.venv' -v0
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (PostgreSQL at 127.0.0.1:5432, Redis at 127.0.0.1:6379; loopback only, bounded).
# The full load run on 300,000 patients: bench/load/run_load.py --patients 300000 --duration 60
# Per page, on rtu_load: bench/bench_pages.py (ms, CPU) and bench/bench_instructions.py
# (instructions per request under valgrind: the figure to compare on a shared machine).
bench: $(STAMP)
	$(PY) bench/bench_rules.py
	$(PY) bench/bench_import.py
	$(PY) bench/bench_reports.py
	$(PY) bench/load/run_load.py --patients 20000 --duration 20 --saturation 0 --hello 10 --no-results

backup:
	bash ops/backup.sh $(BACKUP_FILE)

restore:
	bash ops/restore.sh $(BACKUP_FILE)

worker: $(STAMP)
	$(VENV)/bin/celery -A rtuportal worker -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A rtuportal beat -l info

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
