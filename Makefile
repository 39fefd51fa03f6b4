# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate seed bench clean security messages

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt | $(PY)
	$(PIP) install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime-installed

migrate: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py seed_demo --if-empty

run: seed
	@echo "Helpdesk is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .

test: $(VENV)/.test-installed security
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run > /dev/null
	$(PY) -m pytest $(PYTEST_ARGS)

# Security gates (README "Security checks"), run by `make test`:
# - bandit over the apps (config: [tool.bandit] in pyproject.toml; findings fixed or `# nosec` with
#   the reason on the line above);
# - Django's deployment checklist under production settings (DEBUG off), warnings included;
# - pip-audit of the pinned requirements against PyPI's advisories (scripts/audit_requirements.py):
#   a known vulnerability fails; a package whose advisories could not be fetched is listed as
#   NOT CHECKED (this machine's registry mirror has no per-version JSON API), and fails only with
#   PIP_AUDIT_FLAGS=--require-data. Ignore an advisory only with its reason: one
#   `--ignore-vuln <ID>` per advisory in PIP_AUDIT_IGNORES, reason in a comment.
PIP_AUDIT_FLAGS ?=
PIP_AUDIT_IGNORES :=
security: $(VENV)/.test-installed
	$(VENV)/bin/bandit -q -c pyproject.toml -r helpdesk workspaces tickets privacy
	env -u DATABASE_URL -u SECURE_SSL_REDIRECT -u SECURE_COOKIES -u SECURE_HSTS_SECONDS -u SECURE_HSTS_PRELOAD \
		DEBUG=0 ALLOWED_HOSTS=helpdesk.example.com \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(PY) manage.py check --deploy --fail-level WARNING
	$(PY) scripts/audit_requirements.py $(PIP_AUDIT_FLAGS) $(PIP_AUDIT_IGNORES) -r requirements.txt -r requirements-test.txt

clean:
	rm -rf var staticfiles .pytest_cache

# Benchmarks (README "Benchmarks"): make bench BENCH_SIZES=10k,100k BENCH_ARGS="--reuse"
# writes bench/results.json and its readable rendering docs/benchmarks.md (both committed).
BENCH_SIZES ?= 10k
BENCH_ARGS ?=
bench: $(VENV)/.test-installed
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -q wrk >/dev/null 2>&1 \
		|| (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1) \
		|| echo "wrk could not be installed (needs root and Debian): the throughput row will say so"
	$(PY) -m bench --sizes $(BENCH_SIZES) $(BENCH_ARGS)
	$(PY) -m bench.report --input bench/results.json --markdown docs/benchmarks.md

# Translations (README "Languages"): collect the marked strings into locale/<lang>/LC_MESSAGES/django.po
# (new ones arrive untranslated, which tests/helpdesk/test_translations.py refuses), then compile every
# catalog to the django.mo Django reads. Needs GNU gettext (msgfmt, xgettext: apt-get install gettext).
MESSAGE_LANGUAGES ?= de es fr
messages: $(VENV)/.runtime-installed
	$(PY) manage.py makemessages --no-location --no-obsolete --extension html,txt,py,jinja $(addprefix -l ,$(MESSAGE_LANGUAGES)) \
		--ignore=.venv --ignore=tests --ignore=bench --ignore=scripts --ignore=staticfiles --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv
