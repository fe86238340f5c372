# ghostbench: benchmarks of Redis-in-front-of-PostgreSQL caching strategies
# against real servers. See README.md.

# Pinned versions.
STATICCHECK_VERSION := v0.8.2
# Debian packages of the servers the local provider runs (bookworm: Redis 7,
# PostgreSQL 15; redis-sentinel for the redis-replica topology). The docker
# provider's images are pinned in docker/container.go and docker/compose.yaml.
SERVER_PACKAGES := redis-server redis-sentinel postgresql
# Debian packages the example strategies in examples/python need (run by
# go test with /usr/bin/python3, the interpreter these packages install for).
PYTHON_PACKAGES := python3 python3-redis python3-psycopg
TEST_TIMEOUT := 15m

GO ?= go
SHELL := /bin/bash
BIN := $(CURDIR)/bin

.PHONY: deps deps-browser docker-images build test lint bench reference findings

# deps installs Redis and the PostgreSQL server from Debian's packages when
# they are missing, and makes sure the distribution's own service instances
# do not stay running (ghostbench starts its own servers on free ports).
deps:
	@set -euo pipefail; \
	have_pg() { \
		{ command -v initdb && command -v postgres; } >/dev/null 2>&1 && return 0; \
		for d in /usr/lib/postgresql/*/bin; do [ -x "$$d/initdb" ] && [ -x "$$d/postgres" ] && return 0; done; \
		return 1; \
	}; \
	have_py() { /usr/bin/python3 -c 'import redis, psycopg' >/dev/null 2>&1; }; \
	if command -v redis-server >/dev/null 2>&1 && command -v redis-sentinel >/dev/null 2>&1 && have_pg && have_py; then \
		echo "deps: redis-server, redis-sentinel, the PostgreSQL server and python3-redis/psycopg are installed"; exit 0; \
	fi; \
	hint="install $(SERVER_PACKAGES) yourself, or set GHOSTBENCH_POSTGRES_URL and GHOSTBENCH_REDIS_URL"; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "deps: no apt-get here: $$hint" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "deps: not root and no sudo: $$hint" >&2; exit 1; fi; \
	echo "deps: installing $(SERVER_PACKAGES) $(PYTHON_PACKAGES) from Debian's packages"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(SERVER_PACKAGES) $(PYTHON_PACKAGES); \
	for s in redis-server redis-sentinel postgresql; do $$sudo service $$s stop >/dev/null 2>&1 || true; done; \
	command -v redis-server >/dev/null && command -v redis-sentinel >/dev/null && have_pg || { echo "deps: servers still not found after installing" >&2; exit 1; }; \
	have_py || { echo "deps: /usr/bin/python3 still cannot import redis and psycopg after installing" >&2; exit 1; }

build:
	$(GO) build -o $(BIN)/ghostbench ./cmd/ghostbench

# deps-browser installs Debian's chromium when no Chromium is found: the
# report tests load index.html in a real headless browser, and fail (they do
# not skip) without one. GHOSTBENCH_CHROMIUM may name another binary.
deps-browser:
	@set -euo pipefail; \
	if [ -n "$${GHOSTBENCH_CHROMIUM:-}" ]; then echo "deps-browser: using $$GHOSTBENCH_CHROMIUM"; exit 0; fi; \
	for b in chromium chromium-browser google-chrome google-chrome-stable; do \
		if command -v $$b >/dev/null 2>&1; then echo "deps-browser: $$b is installed"; exit 0; fi; \
	done; \
	hint="install chromium yourself, or set GHOSTBENCH_CHROMIUM to a Chromium or Chrome binary"; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "deps-browser: no apt-get here: $$hint" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "deps-browser: not root and no sudo: $$hint" >&2; exit 1; fi; \
	echo "deps-browser: installing chromium from Debian's packages"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; \
	command -v chromium >/dev/null || { echo "deps-browser: chromium still not found after installing" >&2; exit 1; }

# docker-images builds the docker provider's local images from the Debian
# packages deps installed, without a registry (docker/image/build.sh), when
# a Docker engine answers; they are kept while the packages and the build
# do not change. The pinned official images stay the provider's default:
# select these with -postgres-image/-redis-image or GHOSTBENCH_POSTGRES_IMAGE
# and GHOSTBENCH_REDIS_IMAGE. The docker package's tests use them.
DOCKER_POSTGRES_IMAGE := ghostbench/postgres:15-debian
DOCKER_REDIS_IMAGE := ghostbench/redis:7-debian

docker-images: deps
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
		docker/image/build.sh $(DOCKER_POSTGRES_IMAGE) $(DOCKER_REDIS_IMAGE); \
	else \
		echo "docker-images: no Docker engine answers; the tests of the docker provider on an engine will skip"; \
	fi

test: deps deps-browser docker-images
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

$(BIN)/staticcheck-$(STATICCHECK_VERSION):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(BIN)/staticcheck $@

lint: $(BIN)/staticcheck-$(STATICCHECK_VERSION)
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck-$(STATICCHECK_VERSION) ./...

# bench runs every registered strategy through the default scenarios (2.5 s
# runs, faults scaled; see "ghostbench bench -h") into
# results/<timestamp>-bench/ and prints the path of its index.html. Extra
# flags: make bench BENCH_FLAGS="-duration 10s -strategies cache-aside,write-through".
BENCH_FLAGS ?=
GIT_COMMIT = $$(git rev-parse HEAD 2>/dev/null)

bench: deps build
	GHOSTBENCH_GIT_COMMIT=$(GIT_COMMIT) $(BIN)/ghostbench bench -out results $(BENCH_FLAGS)

# reference runs the default bench into results/reference, kept small
# (PNG plots, no SVG or .hgrm) so that it can be committed.
reference: deps build
	GHOSTBENCH_GIT_COMMIT=$(GIT_COMMIT) $(BIN)/ghostbench bench -dir results/reference -name reference -light $(BENCH_FLAGS)
	@du -sh results/reference
	$(MAKE) findings

# findings runs every claim (ghostbench claims -all, within ten minutes)
# into results/claims/<claim>/, committed like results/reference, and
# regenerates docs/findings.md, which links those folders. Exit status 3
# (a claim refuted) is a finding, not a failure.
findings: deps build
	$(BIN)/ghostbench claims -all -dir results/claims -findings docs/findings.md; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 3 ]
	@du -sh results/claims
