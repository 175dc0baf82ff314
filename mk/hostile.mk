# Hostile input: the corpus runners, limit, memory-bound and tamper-sweep
# tests, and bounded fuzzing of every parser. See docs/hostile.md.
.PHONY: hostile-test hostile-bombs fuzz-smoke fuzz-long hostile-corpus

# Every fuzz target, as package:Name.
FUZZ_TARGETS ?= \
	./verify:FuzzArchive ./verify:FuzzIndexJSON ./verify:FuzzManifest ./verify:FuzzConfig \
	./verify:FuzzDockerManifest ./verify:FuzzLayerBlob \
	./verify/strictjson:FuzzUnmarshal ./verify/strictjson:FuzzDifferential ./verify/strictjson:FuzzUnmarshalCaseAliases \
	./attest/dsse:FuzzEnvelope ./attest/intoto:FuzzStatement
FUZZ_TIME ?= 7s

# hostile-test runs the corpus through the library and the binary, the
# limit tests and the CI-sized tamper sweep (HOSTILE_SWEEP=long for more).
hostile-test: build
	IMGPROOF_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 ./fixtures/hostile/...

# hostile-bombs runs the memory-bound tests (10 GiB gzip, 2 GiB zstd window,
# 200 MiB manifest, 100,000 nested arrays), natively and in wasm under Node.
hostile-bombs: build
	IMGPROOF_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -run 'Bomb' -v ./fixtures/hostile/

# fuzz-smoke runs each fuzz target for FUZZ_TIME. Go 1.26's fuzzing
# coordinator can fail a run with a bare "context deadline exceeded" when
# the time runs out while a worker is mid-input (go.dev/issue/75804, fixed
# in Go 1.27); such a run, which wrote no failing input, is reported and
# not counted as a failure. Any failing input fails the target.
fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZ_TIME))"; \
		out=$$(mktemp); \
		if ! $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZ_TIME) $$pkg >$$out 2>&1; then \
			if grep -q '^    context deadline exceeded$$' $$out && ! grep -q 'Failing input written to' $$out; then \
				echo "  stopped by the fuzzing coordinator's deadline race (go.dev/issue/75804); no failing input"; \
			else \
				cat $$out; rm -f $$out; exit 1; \
			fi; \
		fi; \
		grep 'fuzz: elapsed' $$out | tail -n 1; rm -f $$out; \
	done

# fuzz-long is fuzz-smoke with a longer budget: make fuzz-long FUZZ_TIME=5m
fuzz-long: fuzz-smoke

# hostile-corpus writes the corpus to HOSTILE_OUT (default /tmp/imgproof-hostile).
hostile-corpus:
	$(GO) run ./fixtures/hostile/cmd/gencorpus -out $(or $(HOSTILE_OUT),/tmp/imgproof-hostile)

ci: fuzz-smoke hostile-test
