# zhuqi developer tasks. Services (PostgreSQL, Redis) live in .local/, see scripts/services.sh.
PG_PORT ?= 55432
REDIS_PORT ?= 56379
export PG_PORT REDIS_PORT

# Environment for the server binary; each can be overridden from the caller's environment.
DATABASE_URL ?= postgres://zhuqi@127.0.0.1:$(PG_PORT)/zhuqi
REDIS_URL ?= redis://127.0.0.1:$(REDIS_PORT)/0
BIND_ADDR ?= 127.0.0.1:8080
WECHAT_APPID ?= wx-demo-appid
WECHAT_SECRET ?= demo-secret
LOG_FORMAT ?= text
RUST_LOG ?= info
TEST_DATABASE_URL ?= postgres://zhuqi@127.0.0.1:$(PG_PORT)/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:$(REDIS_PORT)/0

# cargo is often not on PATH in non-login shells.
export PATH := $(HOME)/.cargo/bin:$(PATH)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# Each recipe runs as one bash script, so `set -e` stops it at the first failure.
.ONESHELL:

LOCAL := .local
BIN := target/release/zhuqi
SECRET := $(LOCAL)/jwt_secret
APP_ENV = DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' BIND_ADDR='$(BIND_ADDR)' \
	WECHAT_APPID='$(WECHAT_APPID)' WECHAT_SECRET='$(WECHAT_SECRET)' \
	LOG_FORMAT='$(LOG_FORMAT)' RUST_LOG='$(RUST_LOG)' \
	JWT_SECRET="$${JWT_SECRET:-$$(cat $(SECRET))}"

.PHONY: help run test stop services status lint fmt migrate psql clean-local build spec-lint fuzz drills demo-day browser sdk s3-fake \
	test-scale scale-harness scale-balancer

help:
	@echo "Targets:"
	echo "  make run          start services, build, migrate, seed demo data once, serve on $(BIND_ADDR)"
	echo "  make test         start services, drop leftover test databases, cargo test"
	echo "  make migrate      start services, build, run migrations"
	echo "  make demo-day     the demo city's notifications of one working day, sent to a fake WeChat and printed"
	echo "  make stop         stop PostgreSQL and Redis"
	echo "  make services     start PostgreSQL ($(PG_PORT)) and Redis ($(REDIS_PORT)) only"
	echo "  make status       show service status"
	echo "  make psql         psql on the dev database"
	echo "  make lint         cargo fmt --check + clippy -D warnings"
	echo "  make fmt          cargo fmt"
	echo "  make spec-lint    lint api-spec/openapi.yaml (redocly, openapi-spec-validator, error codes)"
	echo "  make fuzz         schemathesis against a fresh seeded server, as each role (FUZZ_SECONDS, FUZZ_MAX_EXAMPLES)"
	echo "  make drills       fault drills on a release build with their own PostgreSQL/Redis (DRILLS=\"1 2 3 4 5\")"
	echo "  make test-scale   scale tests for CI on make test's debug build: 3 instances behind nginx, one killed (drill 5)"
	echo "  make clean-local  stop services and delete .local/ (databases, secret, logs)"

services:
	@scripts/services.sh up

status:
	@scripts/services.sh status

stop:
	@scripts/services.sh down

build:
	cargo build --release

# Generated once; keeps sessions valid across restarts.
$(SECRET):
	@mkdir -p $(LOCAL)
	(umask 077; head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > $@)

migrate: services build $(SECRET)
	@env $(APP_ENV) $(BIN) migrate

run: migrate
	@if [ ! -f $(LOCAL)/seeded ]; then
	  env $(APP_ENV) $(BIN) seed-demo | tee $(LOCAL)/demo-logins.txt.tmp
	  mv $(LOCAL)/demo-logins.txt.tmp $(LOCAL)/demo-logins.txt
	  touch $(LOCAL)/seeded
	elif [ -f $(LOCAL)/demo-logins.txt ]; then
	  cat $(LOCAL)/demo-logins.txt
	fi
	echo "The offices' console: http://$(BIND_ADDR)/console (the API under http://$(BIND_ADDR)/api/v1)"
	exec env $(APP_ENV) $(BIN) serve

# One working day of notifications in a database of its own (zhuqi_demo_day), sent to fakes.
demo-day: services build
	@env DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' RUST_LOG=warn $(BIN) demo-day

test: services spec-lint browser sdk s3-fake
	@echo "dropping leftover test databases"
	psql -q -v ON_ERROR_STOP=1 '$(TEST_DATABASE_URL)' <<'SQL'
	SELECT format('ALTER DATABASE %I IS_TEMPLATE false', datname),
	       format('DROP DATABASE IF EXISTS %I WITH (FORCE)', datname)
	  FROM pg_database
	 WHERE datname LIKE 'zhuqi\_test\_%' OR datname LIKE 'zhuqi\_tpl\_%' \gexec
	SQL
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' TEST_MOTO_SERVER='$(S3_FAKE_VENV)/bin/moto_server' cargo test

# An S3-compatible server for the attachment tests that store into S3 (moto's, in a venv of
# its own under .local/), installed when its pinned requirements changed.
S3_FAKE_VENV := $(LOCAL)/venv-s3
S3_FAKE_REQUIREMENTS := scripts/s3-fake-requirements.txt

s3-fake:
	@if ! cmp -s $(S3_FAKE_REQUIREMENTS) $(S3_FAKE_VENV)/.zhuqi-installed; then
	  echo "installing moto (an S3-compatible test server) into $(S3_FAKE_VENV)"
	  python3 -m venv $(S3_FAKE_VENV)
	  $(S3_FAKE_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(S3_FAKE_REQUIREMENTS)
	  cp $(S3_FAKE_REQUIREMENTS) $(S3_FAKE_VENV)/.zhuqi-installed
	fi

# The mini-program SDK (sdk/): its tools installed from its lock file when that changed, its
# generated types checked against the spec, compiled, and its unit tests run. The API tests then
# run its end-to-end morning against the real server (tests/api/sdk.rs).
sdk:
	@if ! cmp -s sdk/package-lock.json sdk/node_modules/.zhuqi-installed; then
	  echo "installing the SDK's build tools (npm ci)"
	  npm ci --prefix sdk --no-audit --no-fund --loglevel=error
	  cp sdk/package-lock.json sdk/node_modules/.zhuqi-installed
	fi
	npm run --prefix sdk --silent check:types
	npm test --prefix sdk --silent

# The console's browser tests drive Debian's chromium through chromium-driver; a CJK font makes
# their screenshots (target/console-screenshots/) readable. Installed when missing.
browser:
	@pkgs=()
	command -v chromium >/dev/null || pkgs+=(chromium)
	command -v chromedriver >/dev/null || pkgs+=(chromium-driver)
	dpkg -s fonts-wqy-microhei >/dev/null 2>&1 || pkgs+=(fonts-wqy-microhei)
	if [ "$${#pkgs[@]}" -gt 0 ]; then
	  echo "installing $${pkgs[*]} for the console's browser tests"
	  export DEBIAN_FRONTEND=noninteractive
	  apt-get update -qq
	  apt-get install -y -qq --no-install-recommends "$${pkgs[@]}" >/dev/null
	fi

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

fmt:
	cargo fmt

# The spec's tools: @redocly/cli (npm, api-spec/tools/package-lock.json) and the Python ones
# (api-spec/tools/requirements.txt, in .local/venv). Each is installed again only when its
# lock file changed since the last install (a copy of it is kept as the stamp).
SPEC_TOOLS := api-spec/tools
SPEC_VENV := $(LOCAL)/venv-spec

spec-lint:
	@if ! cmp -s $(SPEC_TOOLS)/package-lock.json $(SPEC_TOOLS)/node_modules/.zhuqi-installed; then
	  echo "installing the spec linter (npm ci)"
	  npm ci --prefix $(SPEC_TOOLS) --no-audit --no-fund --loglevel=error
	  cp $(SPEC_TOOLS)/package-lock.json $(SPEC_TOOLS)/node_modules/.zhuqi-installed
	fi
	if ! cmp -s $(SPEC_TOOLS)/requirements.txt $(SPEC_VENV)/.zhuqi-installed; then
	  echo "installing the spec's Python tools into $(SPEC_VENV)"
	  python3 -m venv $(SPEC_VENV)
	  $(SPEC_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(SPEC_TOOLS)/requirements.txt
	  cp $(SPEC_TOOLS)/requirements.txt $(SPEC_VENV)/.zhuqi-installed
	fi
	npx --prefix $(SPEC_TOOLS) --no-install redocly lint api-spec/openapi.yaml --config api-spec/redocly.yaml
	$(SPEC_VENV)/bin/openapi-spec-validator api-spec/openapi.yaml
	$(SPEC_VENV)/bin/python $(SPEC_TOOLS)/error_codes.py --check

# Schemathesis against a freshly seeded release server on its own port and database, as each role
# and through the problem lifecycle; see scripts/fuzz.sh and scripts/fuzz/driver.py for the knobs
# (FUZZ_SECONDS: the fuzzing budget, FUZZ_MAX_EXAMPLES, FUZZ_RUNS, FUZZ_SEED). Reports in .local/fuzz/.
FUZZ_VENV := $(LOCAL)/venv-fuzz
FUZZ_REQUIREMENTS := scripts/fuzz-requirements.txt

fuzz: services
	@if ! cmp -s $(FUZZ_REQUIREMENTS) $(FUZZ_VENV)/.zhuqi-installed; then
	  echo "installing schemathesis into $(FUZZ_VENV)"
	  python3 -m venv $(FUZZ_VENV)
	  $(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(FUZZ_REQUIREMENTS)
	  cp $(FUZZ_REQUIREMENTS) $(FUZZ_VENV)/.zhuqi-installed
	fi
	FUZZ_VENV=$(FUZZ_VENV) scripts/fuzz.sh

# Fault drills (docs/reliability.md): PostgreSQL restarted, SIGTERM, Redis killed, two instances
# starting together, against a release build and a PostgreSQL (55532) and Redis (56479) of their
# own, never the services above. PASS/FAIL per drill, non-zero on any failure; a few minutes.
# Logs and every request's outcome in .local/drills/. DRILLS picks some, e.g. DRILLS="1 3".
DRILLS ?=

drills:
	@benches/drills.sh $(DRILLS)

# Scale tests, cheap enough for CI (a few minutes on 2 cores): several instances and what stands
# in front of them, on the DEBUG build `make test` already made (target/debug/zhuqi; nothing is
# built in release) and the drills' own PostgreSQL and Redis. Each test is a `scale-<name>`
# target listed in SCALE_STEPS, run in that order; a new one (read replicas, Redis Cluster, …)
# adds its target and its name here. SCALE_STEPS="balancer" runs some.
SCALE_STEPS ?= balancer
SCALE_HARNESS := $(LOCAL)/scale/drills-harness

test-scale: $(addprefix scale-,$(SCALE_STEPS))

# The drills' harness (benches/drills.rs) in the dev profile, beside make test's build: its
# executable's path comes from cargo's JSON messages (bench executables carry a hash), and a
# harness from any other profile stops the run rather than silently costing a release build.
scale-harness:
	@test -x target/debug/zhuqi || { echo "test-scale: target/debug/zhuqi is missing; it reuses the debug build of make test (or cargo build)" >&2; exit 1; }
	pkgs=()
	command -v jq >/dev/null || pkgs+=(jq)
	command -v curl >/dev/null || pkgs+=(curl)
	if [ "$${#pkgs[@]}" -gt 0 ]; then
	  echo "installing $${pkgs[*]} for the scale tests"
	  export DEBIAN_FRONTEND=noninteractive
	  apt-get update -qq
	  apt-get install -y -qq --no-install-recommends "$${pkgs[@]}" >/dev/null
	fi
	mkdir -p $(dir $(SCALE_HARNESS))
	cargo build --bench drills --message-format=json-render-diagnostics \
	  | jq -r 'select(.reason == "compiler-artifact" and .target.name == "drills" and .executable != null)
	           | "\(.profile.opt_level) \(.executable)"' >$(SCALE_HARNESS).txt
	read -r opt harness <$(SCALE_HARNESS).txt
	case "$$harness" in "$$PWD/target/debug/"*) ;; *) echo "test-scale: harness $$harness is not in target/debug" >&2; exit 1 ;; esac
	[ "$$opt" = 0 ] || { echo "test-scale: harness built at opt-level $$opt, not the dev profile's 0" >&2; exit 1; }
	ln -sf "$$harness" $(SCALE_HARNESS)

# Drill 5 (docs/reliability.md): three instances behind nginx (the shipped site file, HTTPS),
# one SIGKILLed and started again in a wave of sign-ins and reports. Sized down for CI; each
# DRILL5_* knob can be set from the environment.
scale-balancer: scale-harness
	@ZHUQI_BIN=target/debug/zhuqi ZHUQI_COMMIT="$$(git rev-parse --short HEAD) (debug build)" \
	  DRILL_HARNESS="$$(readlink -f $(SCALE_HARNESS))" \
	  DRILL5_OFFICERS="$${DRILL5_OFFICERS:-5000}" DRILL5_RATE="$${DRILL5_RATE:-250}" \
	  DRILL5_CONNECTIONS="$${DRILL5_CONNECTIONS:-32}" DRILL5_FAULT_AT="$${DRILL5_FAULT_AT:-4}" \
	  DRILL5_PROBLEMS="$${DRILL5_PROBLEMS:-60}" DRILL5_PROBLEMS_LATE="$${DRILL5_PROBLEMS_LATE:-30}" \
	  benches/drills.sh 5

psql: services
	@psql '$(DATABASE_URL)'

clean-local: stop
	rm -rf $(LOCAL)
