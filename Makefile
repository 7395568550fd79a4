# The two commands: `make run` starts a working demo; `make test` passes the suite.
# Both set the machine up first (scripts/setup is idempotent).
.PHONY: run test setup build build-release bench clean

run: setup build-release
	scripts/run-demo

test: setup
	scripts/test

setup:
	scripts/setup

build:
	swift build

build-release:
	swift build -c release

# Starts its own broker, stub provider and Sluice; see BENCHMARKS.md.
bench: setup
	scripts/bench serve --runs 3

clean:
	rm -rf .build .run
