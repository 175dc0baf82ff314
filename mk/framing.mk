# Archive framing: the mutation sweep over OCI archives and docker saves of
# several producers (docs/hostile.md, "Archive framing"). It runs with the
# build's TAGS, so layers go through ISA-L when it is installed.
# FRAMING_SWEEP=long makes 16 times as many random mutations;
# FRAMING_SWEEP_SEED picks another seed.
FRAMING_SWEEP ?= ci
FRAMING_SWEEP_SEED ?=

.PHONY: framing-sweep

framing-sweep:
	FRAMING_SWEEP=$(FRAMING_SWEEP) FRAMING_SWEEP_SEED=$(FRAMING_SWEEP_SEED) \
		$(GO) test -tags "$(TAGS)" -count=1 -run '^TestFramingSweep$$' -v ./verify

ci: framing-sweep
