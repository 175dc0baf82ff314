// Package bench holds imgproof's benchmarks.
//
// The Go benchmarks (go test -bench . ./bench/) generate a 64 MiB image
// with package imagegen and time verify.Dir and verify.Archive next to two
// baselines over the same bytes in the same run: plain SHA-256 of the blobs,
// and gzip decompression plus SHA-256 of both streams. bench/run.sh times
// the imgproof binary next to shell pipelines and peer tools; see
// docs/bench.md.
package bench
