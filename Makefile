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

# Needs `make run` in another terminal.
bench:
	"$$(swift build -c release --show-bin-path)/sluice" bench --jobs 10000 --concurrency 64

clean:
	rm -rf .build .run
