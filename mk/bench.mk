# Benchmarks (docs/bench.md). `make bench` is long (minutes) and stays out
# of `make ci`; bench-smoke runs each Go benchmark once so the harness
# cannot rot.
BENCH_FLAGS ?=

.PHONY: bench bench-quick bench-smoke

# bench times imgproof next to shell pipelines and peer tools on generated
# 64 MiB, 256 MiB and 1 GiB images; add BENCH_FLAGS=--4g for 4 GiB.
bench:
	bash bench/run.sh $(BENCH_FLAGS)

bench-quick:
	bash bench/run.sh --sizes 64MiB $(BENCH_FLAGS)

bench-smoke:
	$(GO) test -run XXX -bench . -benchtime 1x ./bench/

ci: bench-smoke
