# Sweeps: sweep's tests run in unit-test (an in-process registry, no tools).
# sweep-bench times one sweep against single verifies of the same images,
# and a crane validate --remote loop when crane is installed (not part of ci).
.PHONY: sweep-bench

sweep-bench:
	$(GO) test -run '^$$' -bench SweepVersus -benchtime 3x ./sweep/
