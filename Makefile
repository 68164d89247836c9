# A thin layer over CMake and the scripts in scripts/ (as neovim's Makefile is over CMake).
#   make demo    bring up PostgreSQL + Redis, build, migrate, load demo data, serve
#   make test    build with sanitizers and run every test, printing a summary
#   make down    stop the demo server, PostgreSQL and Redis (data under var/ is kept)

BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build demo test down env-up env-down format clean distclean

all: build

build:
	@scripts/env.sh deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target chartpulse

demo:
	@scripts/demo.sh

test:
	@scripts/test.sh

down:
	@scripts/demo.sh stop
	@scripts/env.sh down

env-up:
	@scripts/env.sh up

env-down:
	@scripts/env.sh down

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test

distclean: down clean
	rm -rf var
