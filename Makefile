# herald's habits. `make run` starts a server with embedded defaults; `make test` runs every
# test (installing what a fresh Debian machine lacks); `make bench` measures herald's
# performance targets and records them in BENCHMARKS.md.

GO        ?= go
BIN       := bin/herald
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# A count of inputs, not a duration: with a duration, Go 1.26's fuzz coordinator can fail a
# target with a bare "context deadline exceeded" at the deadline on a loaded machine
# (golang/go#75804, fixed in Go 1.27) though nothing was found.
FUZZTIME  ?= 60000x
BENCHCOUNT ?= 3

.PHONY: all build run test test-deps fuzz bench generate lint clean

all: build

# Without cgo, as the Dockerfile builds it: a static binary, and Pebble's memory stays in Go's
# heap (with cgo it comes from C's malloc, which holds on to what Pebble frees).
build:
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/herald

run: build
	./$(BIN) serve

# Tools some tests drive as real, independent peers, and node, which runs GraphiQL's page
# script. Installed with apt-get when missing.
TEST_TOOLS := redis-server kcat node

test-deps:
	@./scripts/test-deps.sh $(TEST_TOOLS)

test: test-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) fuzz

# The decoders and pattern compilers that read untrusted input, as target:package.
FUZZ_TARGETS := FuzzDecodeLogEvent:./domain FuzzDecodeLogEvents:./domain FuzzDecodeJSONObject:./domain \
	FuzzDecodeDelivery:./domain FuzzSelectorPattern:./domain FuzzEventOf:./adapters/kafka \
	FuzzReadInputEvents:./cmd/herald

fuzz:
	@for pair in $(FUZZ_TARGETS); do \
		target=$${pair%%:*}; pkg=$${pair#*:}; \
		$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

bench:
	$(GO) run ./tools/benchreport -count $(BENCHCOUNT) -out BENCHMARKS.md

generate:
	$(GO) run github.com/99designs/gqlgen generate

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo 'gofmt: the files above need formatting'; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.7.0 ./...

clean:
	rm -rf bin
