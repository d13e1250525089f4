# parley — build, run and check. `make test` is what CI runs (.ci/run).

GO       ?= go
FUZZTIME ?= 60s
# Packages with shared state run under the race detector; the rest (pure
# parsers, config, interop drivers) run without it to keep `make test`
# within a few minutes on two cores.
RACE_RE   := ^parley/internal/(router|c2s|store|im|server|xmpptest|httpapi|audit|durable|metrics|control|upload|proxy65|s2s|adminapi|clock|transport|retention|directory|dlp|supervision|webhook|ediscovery|oidc)(/|$$)
ALL_PKGS   = $(shell $(GO) list -e ./... 2>/dev/null)
RACE_PKGS  = $(shell $(GO) list -e ./... 2>/dev/null | grep -E '$(RACE_RE)')
PLAIN_PKGS = $(filter-out $(RACE_PKGS),$(ALL_PKGS))
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build test lint fuzz bench clean

run:
	$(GO) run ./cmd/parley serve

build:
	CGO_ENABLED=0 $(GO) build -o bin/parley ./cmd/parley

# Integration suites that start servers through internal/xmpptest/testserver
# run a second time on the PostgreSQL store (PARLEY_TEST_BACKEND).
BACKEND_PKGS = ./internal/server ./internal/c2s ./internal/im/mam ./internal/im/muc ./internal/im/pep ./test/interop ./test/compliance

test:
	$(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -timeout 10m $(RACE_PKGS)
	$(GO) test -timeout 10m $(PLAIN_PKGS)
	PARLEY_TEST_BACKEND=postgres $(GO) test -count=1 -timeout 10m $(BACKEND_PKGS)

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Every fuzz target, one at a time (go test -fuzz takes one target per run).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime=200x $$pkg; \
	  done; \
	done

# Benchmarks of every package that has them. BenchmarkIdleSession opens
# PARLEY_IDLE_N sessions (default 2000).
bench:
	$(GO) test -run '^$$' -bench . -benchmem \
	  $$(grep -rl --include='*_test.go' '^func Benchmark' . | xargs -n1 dirname | sort -u)

clean:
	rm -rf bin
