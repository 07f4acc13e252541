# haat — build, run and test.
#
#   make run     install what is missing, start the private PostgreSQL, migrate, serve on :8080
#   make test    the same set-up, then every test under AddressSanitizer + UBSan
#
# MODE selects the build flavour: debug (default), asan (tests), release (bench, prod).

MODE     ?= debug
BUILD    := build/$(MODE)
GEN      := build/gen
VENDOR   := build/vendor
PKGS     := libmicrohttpd jansson libpq libsodium libcurl zlib
SHELL    := /bin/bash

# Recursive (=) so pkg-config runs only after `deps` has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wformat=2 -Wvla -Wpointer-arith -Wcast-qual -Wundef -Wno-unused-parameter
CFLAGS_debug   := -O0 -g3
CFLAGS_asan    := -O1 -g3 -fno-omit-frame-pointer -fsanitize=address,undefined \
                  -fno-sanitize-recover=undefined
CFLAGS_release := -O2 -g -DNDEBUG
# fuzz: clang only (libFuzzer); the library objects get coverage instrumentation too.
CFLAGS_fuzz    := -O1 -g3 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                  -fno-sanitize-recover=undefined
LDFLAGS_asan   := -fsanitize=address,undefined
LDFLAGS_fuzz   := -fsanitize=fuzzer,address,undefined

CFLAGS  = -std=c17 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS_$(MODE)) -I. $(PKG_CFLAGS) -MMD -MP
LDFLAGS = -pthread $(LDFLAGS_$(MODE))
LDLIBS  = $(PKG_LIBS) -lm

LIB_SRC  := $(shell find pkg internal -name '*.c' 2>/dev/null | sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/assets.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ITEST_SRC := $(wildcard tests/integration/test_*.c)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(BUILD)/itests/%)
# Every non-test file in tests/integration/ belongs to the harness library.
ITEST_LIB_SRC := $(filter-out tests/integration/test_%.c,$(wildcard tests/integration/*.c))
ITEST_LIB := $(ITEST_LIB_SRC:%.c=$(BUILD)/%.o)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_SECONDS ?= 60
HAAT     := $(BUILD)/haat
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)

PG       := infra/dev/pg.sh
DEVENV   := pgenv="$$($(PG) env)" && eval "$$pgenv"

.DEFAULT_GOAL := help
.PHONY: help deps db build migrate run server test unit itest burst quickstart lint fmt bench fuzz \
        fuzz-run clean ha-up ha-down ha-test

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

deps: ## install missing system packages (apt-get; sudo when not root)
	@infra/dev/deps.sh

db: deps ## start the private PostgreSQL cluster in var/pg
	@$(PG) start

build: ## build the haat binary (MODE=debug|asan|release)
	@$(MAKE) --no-print-directory deps >/dev/null
	@$(MAKE) --no-print-directory $(HAAT)

migrate: db build ## apply migrations to the dev database
	@$(DEVENV) && $(HAAT) migrate

run: db build ## install, start PostgreSQL, migrate, serve on http://127.0.0.1:8080
	@addr=$${HAAT_HTTP_ADDR:-127.0.0.1:8080}; if (exec 3<>/dev/tcp/$${addr%:*}/$${addr##*:}) 2>/dev/null; then \
	  echo "haat: $$addr is taken (another checkout's server?); choose another: HAAT_HTTP_ADDR=127.0.0.1:8081 make run" >&2; \
	  exit 1; fi
	@$(DEVENV) && $(HAAT) migrate && addr=$${HAAT_HTTP_ADDR:-127.0.0.1:8080} && \
	  echo "haat: API http://$$addr/v1   docs http://$$addr/docs   metrics http://$$addr/metrics" && \
	  exec $(HAAT) serve

server: db ## hot reload: rebuild and restart on every source change
	@infra/dev/hot-reload.sh

test: db ## every test (unit + integration + the README quick start) under ASan/UBSan, the body burst on a release build, then each fuzzer for 20 s
	@$(MAKE) --no-print-directory -k MODE=asan unit itest quickstart
	@$(MAKE) --no-print-directory MODE=release burst
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20

# test_jobs' LISTEN/NOTIFY test needs a database: the dev cluster's (started by `make db`).
unit: $(UNIT_BIN)
	@$(DEVENV) && HAAT_TEST_LISTEN_URL=$$DATABASE_URL infra/dev/run-tests.sh unit $(UNIT_BIN)

# Every answer the integration tests get is recorded and checked against the OpenAPI
# document afterwards (status, media type, body schema): infra/dev/openapi-check.py.
itest: $(HAAT) $(ITEST_BIN) $(GEN)/openapi.json
	@$(DEVENV) && rec=$(BUILD)/api-record && rm -rf $$rec && mkdir -p $$rec && \
	  { HAAT_RECORD_DIR=$$PWD/$$rec HAAT_BIN=$(HAAT) infra/dev/run-tests.sh integration $(ITEST_BIN); \
	    rc=$$?; python3 infra/dev/openapi-check.py $(GEN)/openapi.json $$rec || rc=1; exit $$rc; }

# Memory under hostile bodies: 64 connections x 1 MiB to /v1/auth/login, three times, must
# stay under 128 MB; 64 logins queued for the password pool under 192 MB (128 MB of it is the
# pool's two Argon2id hashes). A release build: AddressSanitizer's quarantine would hide the
# figure. About 10 s.
burst: $(HAAT)
	@timeout 120 python3 infra/dev/body-burst-test.py $(HAAT)

# The README's quick start, run as written against a server of its own.
quickstart: $(HAAT)
	@HAAT_BIN=$(HAAT) infra/dev/quickstart-test.sh

# The failover rig (infra/ha): etcd, two Patroni nodes, HAProxy, three haat instances.
ha-up: ## start the failover rig (Patroni + HAProxy + 3 haat) in var/ha
	@infra/dev/deps.sh ha
	@$(MAKE) --no-print-directory build
	@HAAT_BIN=$(HAAT) infra/ha/rig.sh up

ha-down: ## stop the failover rig
	@infra/ha/rig.sh down

ha-test: ## the failover test: switchover and node loss under traffic (bounded by 180 s)
	@infra/dev/deps.sh ha
	@$(MAKE) --no-print-directory build
	@HAAT_BIN=$(HAAT) timeout 180 infra/ha/rig.sh test

lint: deps ## clang-format check, cppcheck, OpenAPI lint, deploy artefacts (infra/)
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
	@cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	  --inline-suppr --suppress=missingIncludeSystem -I. $$(git ls-files '*.c' | grep -v '^tests/')
	@infra/dev/openapi-lint.sh
	@infra/dev/deps.sh lint
	@$(MAKE) --no-print-directory $(HAAT)
	@infra/dev/deploy-lint.sh $(HAAT)

fmt: ## reformat the C sources in place
	@clang-format -i $$(git ls-files '*.c' '*.h')

fuzz: deps ## run each libFuzzer target (tests/fuzz) for FUZZ_SECONDS (default 60)
	@$(MAKE) --no-print-directory MODE=fuzz CC=clang fuzz-run

fuzz-run: $(FUZZ_BIN)
	@infra/dev/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

bench: db ## benchmark the hot paths against pgbench (prints a table)
	@$(MAKE) --no-print-directory MODE=release build
	@infra/dev/bench.sh

clean: ## remove build outputs (keeps var/ and the database)
	rm -rf build

# --- compilation -------------------------------------------------------------

$(HAAT): $(BUILD)/main.o $(LIB_OBJ)
	@echo "  LD $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The version enters the program in one place: internal/app/version.c, the only file compiled
# with -DHAAT_VERSION. version.txt is rewritten only when the version changes, so that object
# (and with it `haat version` and haat_build_info) follows every commit without rebuilding
# anything else.
$(BUILD)/version.txt: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@

.PHONY: FORCE
FORCE:

$(BUILD)/internal/app/version.o: internal/app/version.c $(BUILD)/version.txt
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -DHAAT_VERSION='"$(VERSION)"' -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

# Static assets compiled into the binary: the OpenAPI document and the offline Redoc bundle.
$(GEN)/openapi.json: docs/openapi.yaml infra/dev/yaml2json.py
	@mkdir -p $(@D)
	python3 infra/dev/yaml2json.py $< $@

$(VENDOR)/redoc.standalone.js:
	@infra/dev/assets.sh $(VENDOR)

# Redoc's footer shows a logo from its CDN: the served bundle shows our favicon instead, so
# /docs makes no request to another host (the build fails if any CDN reference is left).
$(GEN)/redoc.standalone.js: $(VENDOR)/redoc.standalone.js
	@mkdir -p $(@D)
	@sed 's#https://cdn\.redoc\.ly/redoc/logo-mini\.svg#/favicon.svg#g' $< > $@.tmp
	@if grep -q 'cdn\.redoc\.ly' $@.tmp; then echo "redoc: a CDN reference is left" >&2; exit 1; fi
	@mv $@.tmp $@

$(BUILD)/assets.o: pkg/http/assets.S $(GEN)/openapi.json $(GEN)/redoc.standalone.js \
                   docs/assets/favicon.svg
	@mkdir -p $(@D)
	@echo "  AS $<"
	@$(CC) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) -lcmocka

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/itests/test_%: tests/integration/test_%.c $(ITEST_LIB)
	@mkdir -p $(@D)
	@echo "  LD $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS) -lcmocka

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
